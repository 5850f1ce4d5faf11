#!/bin/sh
# Makes the PKIs the integration tests share: the site's own (host name
# qlikserver1) and a rogue one (another CA). Never committed.
set -eu
sim="$1"
dir="$2"
rm -rf "$dir"
"$sim" --make-pki "$dir/main" --host-name qlikserver1
"$sim" --make-pki "$dir/rogue" --host-name qlikserver1
