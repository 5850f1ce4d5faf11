# The CTest fixture "postgres": a private PostgreSQL server on loopback for
# the tests that need one (postgres_fixture.sh says how it is started, and
# as which user). Included by every test folder that uses it; defined once.
#
# Sets QLIK_TEST_POSTGRES_DIR: where the running server's connection string
# (connection), password (password.pass) and log (server.log) are, or the
# file `unavailable` when it was skipped (QLIK_RELOAD_TESTS_WITHOUT_POSTGRES=1
# on a machine without the server).
include_guard(GLOBAL)

set(QLIK_TEST_POSTGRES_DIR ${CMAKE_BINARY_DIR}/postgres CACHE INTERNAL "the test PostgreSQL server's folder")

add_test(NAME postgres-start
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/postgres_fixture.sh start ${QLIK_TEST_POSTGRES_DIR})
set_tests_properties(postgres-start PROPERTIES FIXTURES_SETUP postgres TIMEOUT 180)
add_test(NAME postgres-stop
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/postgres_fixture.sh stop ${QLIK_TEST_POSTGRES_DIR})
set_tests_properties(postgres-stop PROPERTIES FIXTURES_CLEANUP postgres TIMEOUT 120)

# What the tests use to reach it (test_postgres.h).
add_library(qlik_reload_test_postgres STATIC ${CMAKE_CURRENT_LIST_DIR}/test_postgres.cpp)
target_include_directories(qlik_reload_test_postgres PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(qlik_reload_test_postgres PRIVATE QLIK_TEST_POSTGRES_DIR="${QLIK_TEST_POSTGRES_DIR}")
target_link_libraries(qlik_reload_test_postgres PUBLIC qlik_reload_core PRIVATE qlik_reload_warnings)
