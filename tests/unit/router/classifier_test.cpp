// The classification table: statement text -> a one-line summary of its Classification (see
// classifier_test_util.h for the format).

#include "router/classifier.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/unit/router/classifier_test_util.h"

namespace replproxy::router {
namespace {

struct Case {
  std::string sql;
  std::string expected;
};

std::vector<Case> plain_reads() {
  return {
      {"SELECT 1", "read"},
      {"select * from t", "read"},
      {"  SeLeCt\n\t*\nFROM\tt  ", "read"},
      {"select\n*\nfrom\nt\nwhere\nid=1", "read"},
      {"SELECT @@server_id", "read"},
      {"SELECT COUNT(*) FROM t GROUP BY a HAVING COUNT(*) > 1 ORDER BY a DESC LIMIT 10", "read"},
      {"SELECT * FROM t1 JOIN t2 USING (id) WHERE t1.x IN (SELECT y FROM t3)", "read"},
      {"SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10", "read"},
      {"SELECT SLEEP(1)", "read"},
      {"SELECT NOW(), UUID(), RAND(), CURRENT_USER()", "read"},
      {"SELECT my_function(1)", "read"},
      {"SELECT `my_function`(1)", "read"},
      {"SELECT 1 FROM dual", "read"},
      {"SELECT * FROM t LIMIT 1 OFFSET 2", "read"},
      {"SELECT 1e10, .5, 0x1F, 1.5e-3, X'4142', b'01', -2", "read"},
      {"SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2020-01-01'", "read"},
      {"SELECT MATCH(a) AGAINST('x' IN BOOLEAN MODE) FROM t", "read"},
      {"SELECT JSON_EXTRACT(doc, '$.a'), doc->>'$.b' FROM t", "read"},
      {"SELECT @x", "read"},
      {"SELECT @x = 1, @x <=> NULL", "read"},
      {"SELECT * FROM t WHERE a = @x", "read"},
      {"SELECT @@session.sql_mode, @@global.max_connections", "read"},
      {"SELECT * FROM `db`.`t` WHERE `a``b` = 1", "read"},
      {"SELECT next_value FROM t", "read"},
      {"SELECT x AS next, y AS value FROM t", "read"},
      {"SELECT REPLACE(name, 'a', 'b') FROM t", "read"},
      {"SELECT INSERT('abc', 1, 1, 'x')", "read"},
      {"SELECT `update`, `insert`, `delete` FROM t", "read"},
      {"SELECT t.update, t.delete, t.lock, t.into FROM t", "read"},
      {"SELECT CONCAT(a, b) AS `select` FROM t", "read"},
      {"SELECT 1 UNION ALL SELECT 2", "read"},
      {"(SELECT 1) UNION (SELECT 2)", "read"},
      {"((SELECT a FROM t))", "read"},
      {"WITH c AS (SELECT 1 AS x) SELECT x FROM c", "read"},
      {"WITH RECURSIVE r (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) "
       "SELECT * FROM r",
       "read"},
      {"VALUES (1, 2), (3, 4)", "read"},
      {"TABLE t", "read"},
      {"HELP 'contents'", "read"},
      // Prepared statement texts, as sysbench sends them.
      {"SELECT c FROM sbtest1 WHERE id=?", "read"},
      {"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN ? AND ? ORDER BY c", "read"},
      {"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN ? AND ?", "read"},
  };
}

std::vector<Case> other_reads() {
  return {
      {"SHOW TABLES", "read"},
      {"show full tables from db", "read"},
      {"SHOW DATABASES", "read"},
      {"SHOW CREATE TABLE t", "read"},
      {"SHOW VARIABLES LIKE 'read_only'", "read"},
      {"SHOW SESSION STATUS", "read"},
      {"SHOW GLOBAL STATUS LIKE 'Threads%'", "read"},
      {"SHOW FULL COLUMNS FROM t", "read"},
      {"SHOW INDEX FROM t", "read"},
      {"SHOW ENGINES", "read"},
      {"SHOW GRANTS", "read"},
      {"SHOW PROFILES", "read"},
      {"DESCRIBE t", "read"},
      {"DESC t", "read"},
      {"desc `db`.`t` col", "read"},
      {"EXPLAIN t", "read"},
      {"EXPLAIN SELECT * FROM t", "read"},
      {"EXPLAIN FORMAT=JSON SELECT 1", "read"},
      {"explain format = tree select 1", "read"},
      {"EXPLAIN EXTENDED SELECT 1", "read"},
      {"EXPLAIN ANALYZE SELECT * FROM t", "read"},
      {"DESCRIBE SELECT 1", "read"},
      {"EXPLAIN (SELECT 1)", "read"},
      {"ANALYZE SELECT * FROM t", "read"},
      {"ANALYZE FORMAT=JSON SELECT 1", "read"},
      {"SELECT FOUND_ROWS()", "read found_rows"},
      {"select found_rows ( )", "read found_rows"},
      {"SELECT ROW_COUNT()", "read row_count"},
      {"SHOW WARNINGS", "read warnings"},
      {"SHOW ERRORS", "read warnings"},
      {"show warnings limit 5", "read warnings"},
      {"SHOW COUNT(*) WARNINGS", "read warnings"},
      {"show count ( * ) errors", "read warnings"},
      {"SELECT @@warning_count", "read warnings"},
      {"SELECT @@session.error_count", "read warnings"},
      {"GET DIAGNOSTICS @n = NUMBER", "read warnings"},
      {"GET CURRENT DIAGNOSTICS CONDITION 1 @m = MESSAGE_TEXT", "read warnings"},
  };
}

// Keywords in strings, comments and quoted identifiers are not code; executable comments are.
std::vector<Case> lexical_cases() {
  return {
      {"SELECT * FROM t WHERE a = 'SELECT ... FOR UPDATE'", "read"},
      {"SELECT * FROM t WHERE note = \"LOCK IN SHARE MODE\"", "read"},
      {"SELECT \"UPDATE t SET a = 1\"", "read"},
      {"SELECT 'GET_LOCK(1)', 'x INTO @y'", "read"},
      {"SELECT 'it''s', 'a\\'b FOR UPDATE', \"q\"\"q\" FROM t", "read"},
      {"SELECT 'a\\\\', 'FOR UPDATE'", "read"},
      {"SELECT * FROM t WHERE a LIKE 'x\\_%'", "read"},
      {"/* comment */ SELECT 1", "read"},
      {"-- leading\nSELECT 1", "read"},
      {"# leading\nSELECT 1", "read"},
      {"SELECT 1 -- FOR UPDATE", "read"},
      {"SELECT 1 # INTO @x", "read"},
      {"SELECT 1 -- x\r\n, 2", "read"},
      {"SELECT 1 /* ; DELETE FROM t */", "read"},
      {"SELECT /*+ MAX_EXECUTION_TIME(1000) */ * FROM t", "read"},
      {"SELECT a--b FROM t FOR UPDATE", "write:locking_read"},
      {"SELECT a --\tcomment\nFROM t", "read"},
      {"SELECT 1;", "read"},
      {"SELECT 1 ;  ;; ", "read"},
      {";;SELECT 1", "read"},
      {"/*!40101 SELECT 1 */", "read"},
      {"SELECT 1 /*!50700 , 2 */", "read"},
      {"SELECT * FROM t /*!50000 FOR UPDATE */", "write:locking_read"},
      {"SELECT * FROM t /*M!100300 FOR UPDATE */", "write:locking_read"},
      {"SELECT * FROM t /*!FOR UPDATE*/", "write:locking_read"},
      {"SELECT * FROM t FOR /* c */ UPDATE", "write:locking_read"},
      {"SELECT * FROM t\nFOR\n  UPDATE", "write:locking_read"},
      {"SELECT 1 /*!; SELECT 2 */", "write:multi_statement stmts=2"},
      {"", "read stmts=0"},
      {"   \n\t ", "read stmts=0"},
      {"/* only a comment */", "read stmts=0"},
      {";", "read stmts=0"},
      {"-- nothing", "read stmts=0"},
      {"SELECT 'unterminated", "write:unknown"},
      {"SELECT * FROM t /* unterminated", "write:unknown"},
      {"SELECT `unterminated", "write:unknown"},
      {"/*!50000 SELECT 1", "write:unknown"},
      {"SELECT 1 /*!99999 'x */ ; DELETE FROM t; -- ' */", "write:unknown"},
      {"SELECT 1 /*!99999 -- */ ; DELETE FROM t\n */", "write:unknown stmts=2"},
      {"/*!50000 SELECT /* nested */ 1 */", "write:unknown"},
  };
}

std::vector<Case> data_changes() {
  return {
      {"INSERT INTO t VALUES (1)", "write:data_change"},
      {"INSERT INTO sbtest1 (id, k, c, pad) VALUES (?, ?, ?, ?)", "write:data_change"},
      {"UPDATE sbtest1 SET k=k+1 WHERE id=?", "write:data_change"},
      {"insert into t select * from u", "write:data_change"},
      {"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", "write:data_change"},
      {"INSERT INTO t VALUES (LAST_INSERT_ID())", "write:data_change"},
      {"UPDATE t SET a = 1 WHERE id = 2", "write:data_change"},
      {"DELETE FROM t WHERE id = 1", "write:data_change"},
      {"REPLACE INTO t VALUES (1)", "write:data_change"},
      {"LOAD DATA INFILE '/tmp/x' INTO TABLE t", "write:data_change"},
      {"LOAD XML LOCAL INFILE 'x' INTO TABLE t", "write:data_change"},
      {"IMPORT TABLE FROM '/tmp/t.sdi'", "write:data_change"},
      {"WITH c AS (SELECT id FROM u) UPDATE t JOIN c USING (id) SET t.a = 1", "write:data_change"},
      {"WITH c AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM c)", "write:data_change"},
      {"EXPLAIN UPDATE t SET a = 1", "write:data_change"},
      {"EXPLAIN DELETE FROM t", "write:data_change"},
      {"ANALYZE UPDATE t SET a = 1", "write:data_change"},
      {"/* SELECT */ UPDATE t SET a = 1", "write:data_change"},
      {"  \n-- SELECT\nDELETE FROM t", "write:data_change"},
      {"CALL p()", "write:stored_procedure"},
      {"call db.p(1, @out)", "write:stored_procedure"},
      {"DO SLEEP(1)", "write:do_statement"},
      {"DO RELEASE_LOCK('x')", "write:do_statement"},
  };
}

std::vector<Case> primary_only_selects() {
  return {
      {"SELECT * FROM t FOR UPDATE", "write:locking_read"},
      {"select * from t where id = 1 for update nowait", "write:locking_read"},
      {"SELECT * FROM t FOR UPDATE SKIP LOCKED", "write:locking_read"},
      {"SELECT * FROM t LOCK IN SHARE MODE", "write:locking_read"},
      {"SELECT * FROM t FOR SHARE", "write:locking_read"},
      {"SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE)", "write:locking_read"},
      {"(SELECT * FROM t FOR UPDATE)", "write:locking_read"},
      {"WITH c AS (SELECT 1) SELECT * FROM c FOR UPDATE", "write:locking_read"},
      {"SELECT a INTO @x FROM t", "write:select_into"},
      {"SELECT * FROM t INTO OUTFILE '/tmp/x'", "write:select_into"},
      {"SELECT * INTO DUMPFILE '/tmp/x' FROM t", "write:select_into"},
      {"select a, b from t into @x, @y", "write:select_into"},
      {"SELECT GET_LOCK('x', 10)", "write:side_effect_function"},
      {"select get_lock ('x', 1)", "write:side_effect_function"},
      {"SELECT RELEASE_LOCK('x')", "write:side_effect_function"},
      {"SELECT RELEASE_ALL_LOCKS()", "write:side_effect_function"},
      {"SELECT IS_USED_LOCK('x')", "write:side_effect_function"},
      {"SELECT IS_FREE_LOCK('x')", "write:side_effect_function"},
      {"SELECT NEXTVAL(s)", "write:side_effect_function"},
      {"SELECT LASTVAL(s)", "write:side_effect_function"},
      {"SELECT SETVAL(s, 10)", "write:side_effect_function"},
      {"SELECT NEXT VALUE FOR s", "write:side_effect_function"},
      {"SELECT PREVIOUS VALUE FOR db.s", "write:side_effect_function"},
      {"SELECT s.nextval", "write:side_effect_function"},
      {"SELECT MASTER_POS_WAIT('log.000001', 4)", "write:side_effect_function"},
      {"SELECT MASTER_GTID_WAIT('0-1-1', 1)", "write:side_effect_function"},
      {"SELECT WAIT_FOR_EXECUTED_GTID_SET('uuid:1', 1)", "write:side_effect_function"},
      {"SELECT * FROM t WHERE GET_LOCK('x', 0) = 1", "write:side_effect_function"},
      {"SELECT 1 FROM t WHERE a = (SELECT RELEASE_LOCK('y'))", "write:side_effect_function"},
      {"SELECT db.f(1)", "write:stored_function"},
      {"SELECT `db`.`f`(1)", "write:stored_function"},
      {"SELECT * FROM t WHERE id = app.next_id()", "write:stored_function"},
      {"SELECT db . f (1)", "write:stored_function"},
      {"SELECT @x := 1", "write:user_variable_assignment"},
      {"SELECT @rownum := @rownum + 1 AS n, t.* FROM t", "write:user_variable_assignment"},
      {"SELECT a FROM t WHERE (@x := a) > 0", "write:user_variable_assignment"},
      {"SELECT LAST_INSERT_ID()", "write:last_insert_id last_insert_id"},
      {"select last_insert_id ( )", "write:last_insert_id last_insert_id"},
      {"SELECT * FROM t WHERE id = LAST_INSERT_ID()", "write:last_insert_id last_insert_id"},
      {"SELECT @@last_insert_id", "write:last_insert_id last_insert_id"},
      {"SELECT @@identity", "write:last_insert_id last_insert_id"},
      {"SELECT @@read_only", "write:server_admin"},
      {"SELECT @@global.super_read_only", "write:server_admin"},
  };
}

std::vector<Case> transaction_cases() {
  return {
      {"BEGIN", "write:transaction_control trx=begin"},
      {"begin work", "write:transaction_control trx=begin"},
      {"START TRANSACTION", "write:transaction_control trx=begin"},
      {"START TRANSACTION READ WRITE", "write:transaction_control trx=begin"},
      {"START TRANSACTION WITH CONSISTENT SNAPSHOT", "write:transaction_control trx=begin"},
      {"START TRANSACTION READ ONLY", "read trx=begin_read_only"},
      {"start transaction read only, with consistent snapshot", "read trx=begin_read_only"},
      {"START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY", "read trx=begin_read_only"},
      {"START TRANSACTION READ ONLY, READ WRITE", "write:transaction_control trx=begin"},
      {"COMMIT", "write:transaction_control trx=commit"},
      {"COMMIT WORK", "write:transaction_control trx=commit"},
      {"COMMIT AND CHAIN", "write:transaction_control trx=commit chain"},
      {"COMMIT AND NO CHAIN NO RELEASE", "write:transaction_control trx=commit"},
      {"COMMIT RELEASE", "write:transaction_control trx=commit release"},
      {"ROLLBACK", "write:transaction_control trx=rollback"},
      {"rollback work and chain", "write:transaction_control trx=rollback chain"},
      {"ROLLBACK TO SAVEPOINT s1", "write:transaction_control trx=rollback_to_savepoint"},
      {"ROLLBACK WORK TO s1", "write:transaction_control trx=rollback_to_savepoint"},
      {"SAVEPOINT s1", "write:transaction_control trx=savepoint"},
      {"RELEASE SAVEPOINT s1", "write:transaction_control trx=release_savepoint"},
      {"RELEASE s1", "write:unknown"},
      {"XA START 'x'", "write:transaction_control trx=xa"},
      {"XA END 'x'", "write:transaction_control trx=xa"},
      {"XA COMMIT 'x'", "write:transaction_control trx=xa"},
      {"BEGIN NOT ATOMIC", "write:unknown"},
      {"BEGIN; SELECT 1; COMMIT", "write:multi_statement trx=commit stmts=3"},
      {"SET autocommit = 0",
       "write:transaction_control autocommit=off set=session_variable:autocommit"},
      {"SET autocommit=1",
       "write:transaction_control autocommit=on set=session_variable:autocommit"},
      {"set AUTOCOMMIT = ON",
       "write:transaction_control autocommit=on set=session_variable:AUTOCOMMIT"},
      {"SET autocommit = OFF",
       "write:transaction_control autocommit=off set=session_variable:autocommit"},
      {"SET autocommit = true",
       "write:transaction_control autocommit=on set=session_variable:autocommit"},
      {"SET autocommit = FALSE",
       "write:transaction_control autocommit=off set=session_variable:autocommit"},
      {"SET @@autocommit = 0",
       "write:transaction_control autocommit=off set=session_variable:autocommit"},
      {"SET SESSION autocommit = 1",
       "write:transaction_control autocommit=on set=session_variable:autocommit"},
      {"SET @@session.autocommit := 'OFF'",
       "write:transaction_control autocommit=off set=session_variable:autocommit"},
      {"SET autocommit = DEFAULT",
       "write:transaction_control autocommit=unknown set=session_variable:autocommit"},
      {"SET autocommit = @x",
       "write:transaction_control autocommit=unknown set=session_variable:autocommit"},
      {"SET GLOBAL autocommit = 0", "write:server_admin set=global_variable:autocommit"},
      {"SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
       "write:transaction_control set=transaction_next:"},
      {"SET TRANSACTION READ ONLY", "write:transaction_control set=transaction_next:"},
      {"SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE",
       "read session set=transaction_session:"},
      {"SET GLOBAL TRANSACTION ISOLATION LEVEL READ COMMITTED",
       "write:server_admin set=global_variable:"},
  };
}

std::vector<Case> implicit_commit_cases() {
  return {
      {"CREATE TABLE t (a INT)", "write:schema_change trx=implicit_commit"},
      {"create table if not exists t like u", "write:schema_change trx=implicit_commit"},
      {"ALTER TABLE t ADD COLUMN b INT", "write:schema_change trx=implicit_commit"},
      {"RENAME TABLE a TO b", "write:schema_change trx=implicit_commit"},
      {"TRUNCATE TABLE t", "write:schema_change trx=implicit_commit"},
      {"CREATE INDEX i ON t (a)", "write:schema_change trx=implicit_commit"},
      {"DROP INDEX i ON t", "write:schema_change trx=implicit_commit"},
      {"CREATE DATABASE d", "write:schema_change trx=implicit_commit"},
      {"DROP DATABASE d", "write:schema_change trx=implicit_commit"},
      {"CREATE VIEW v AS SELECT 1", "write:schema_change trx=implicit_commit"},
      {"CREATE OR REPLACE VIEW v AS SELECT 1", "write:schema_change trx=implicit_commit"},
      {"CREATE DEFINER = CURRENT_USER PROCEDURE p() SELECT 1",
       "write:schema_change trx=implicit_commit"},
      {"DROP TABLE t", "write:schema_change trx=implicit_commit tables=drop:t"},
      {"DROP TABLE IF EXISTS a, db.b",
       "write:schema_change trx=implicit_commit tables=drop:a,db.b"},
      {"drop tables `x`", "write:schema_change trx=implicit_commit tables=drop:x"},
      {"CREATE TEMPORARY TABLE tmp (a INT)", "write:schema_change tables=create_temporary:tmp"},
      {"create temporary table if not exists `tmp 1` select * from t",
       "write:schema_change tables=create_temporary:tmp 1"},
      {"CREATE OR REPLACE TEMPORARY TABLE db.tmp (a INT)",
       "write:schema_change tables=create_temporary:db.tmp"},
      {"CREATE TEMPORARY TABLE (a INT)", "write:schema_change"},
      {"CREATE TEMPORARY SEQUENCE s", "write:schema_change"},
      {"DROP TEMPORARY TABLE tmp", "write:schema_change tables=drop_temporary:tmp"},
      {"DROP TEMPORARY TABLE IF EXISTS a, `b`", "write:schema_change tables=drop_temporary:a,b"},
      {"LOCK TABLES t READ", "write:table_lock trx=implicit_commit locks=lock"},
      {"lock table t write, u read", "write:table_lock trx=implicit_commit locks=lock"},
      {"UNLOCK TABLES", "write:table_lock trx=implicit_commit locks=unlock"},
      {"LOCK INSTANCE FOR BACKUP", "write:server_admin"},
      {"GRANT SELECT ON db.* TO 'u'@'%'", "write:privilege_change trx=implicit_commit"},
      {"REVOKE ALL ON *.* FROM u", "write:privilege_change trx=implicit_commit"},
      {"CREATE USER 'u'@'%' IDENTIFIED BY 'p'", "write:privilege_change trx=implicit_commit"},
      {"DROP USER u", "write:privilege_change trx=implicit_commit"},
      {"ALTER USER u IDENTIFIED BY 'x'", "write:privilege_change trx=implicit_commit"},
      {"RENAME USER a TO b", "write:privilege_change trx=implicit_commit"},
      {"CREATE ROLE r", "write:privilege_change trx=implicit_commit"},
      {"SET PASSWORD = PASSWORD('x')", "write:privilege_change trx=implicit_commit"},
      {"SET PASSWORD FOR u = 'x'", "write:privilege_change trx=implicit_commit"},
      {"SET DEFAULT ROLE r FOR u", "write:privilege_change trx=implicit_commit"},
      {"ANALYZE TABLE t", "write:server_admin trx=implicit_commit"},
      {"OPTIMIZE TABLE t", "write:server_admin trx=implicit_commit"},
      {"CHECK TABLE t", "write:server_admin trx=implicit_commit"},
      {"FLUSH PRIVILEGES", "write:server_admin trx=implicit_commit"},
      {"START SLAVE", "write:server_admin trx=implicit_commit"},
      {"STOP REPLICA", "write:server_admin trx=implicit_commit"},
      {"CHANGE MASTER TO MASTER_HOST = 'x'", "write:server_admin trx=implicit_commit"},
  };
}

std::vector<Case> admin_cases() {
  return {
      {"KILL 42", "write:server_admin"},
      {"KILL QUERY 42", "write:server_admin"},
      {"PURGE BINARY LOGS TO 'x'", "write:server_admin"},
      {"SHOW MASTER STATUS", "write:server_admin"},
      {"SHOW SLAVE STATUS", "write:server_admin"},
      {"show replica status", "write:server_admin"},
      {"SHOW ALL SLAVES STATUS", "write:server_admin"},
      {"SHOW BINARY LOGS", "write:server_admin"},
      {"SHOW BINLOG EVENTS", "write:server_admin"},
      {"SHOW PROCESSLIST", "write:server_admin"},
      {"SHOW FULL PROCESSLIST", "write:server_admin"},
      {"SHOW ENGINE INNODB STATUS", "write:server_admin"},
      {"SHOW EXPLAIN FOR 5", "write:server_admin"},
      {"EXPLAIN FOR CONNECTION 5", "write:server_admin"},
      {"SHOW", "write:unknown"},
      {"PREPARE s FROM 'SELECT 1'", "write:connection_state"},
      {"EXECUTE s USING @a", "write:connection_state"},
      {"DEALLOCATE PREPARE s", "write:connection_state"},
      {"HANDLER t OPEN", "write:connection_state"},
      {"SET GLOBAL max_connections = 100",
       "write:server_admin set=global_variable:max_connections"},
      {"SET @@global.max_connections = 100",
       "write:server_admin set=global_variable:max_connections"},
      {"SET PERSIST max_connections = 100",
       "write:server_admin set=global_variable:max_connections"},
      {"SET GLOBAL hot_cache.key_buffer_size = 1024",
       "write:server_admin set=global_variable:hot_cache.key_buffer_size"},
      {"FROBNICATE t", "write:unknown"},
      {"(UPDATE t SET a = 1)", "write:unknown"},
      {"(", "write:unknown"},
      {"42", "write:unknown"},
      {"'SELECT 1'", "write:unknown"},
      {"@x", "write:unknown"},
  };
}

std::vector<Case> session_state_cases() {
  return {
      {"USE db", "read session use=db"},
      {"use `my db`", "read session use=my db"},
      {"USE", "write:unknown"},
      {"SET NAMES utf8mb4", "read session set=names:utf8mb4"},
      {"SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'", "read session set=names:utf8mb4"},
      {"set  names\n utf8mb4   collate utf8mb4_bin", "read session set=names:utf8mb4"},
      {"set names DEFAULT", "read session set=names:DEFAULT"},
      {"SET CHARACTER SET utf8", "read session set=character_set:utf8"},
      {"SET CHARSET latin1", "read session set=character_set:latin1"},
      {"SET sql_mode = 'ANSI'", "read session set=session_variable:sql_mode"},
      {"SET SESSION sql_mode = ''", "read session set=session_variable:sql_mode"},
      {"SET LOCAL wait_timeout = 10", "read session set=session_variable:wait_timeout"},
      {"SET @@session.time_zone = '+00:00'", "read session set=session_variable:time_zone"},
      {"SET @@local.net_write_timeout = 60", "read session set=session_variable:net_write_timeout"},
      {"SET @@sql_select_limit = DEFAULT", "read session set=session_variable:sql_select_limit"},
      {"SET sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
       "read session set=session_variable:sql_mode"},
      {"SET @x = 1", "read session set=user_variable:x"},
      {"SET @x := 1", "read session set=user_variable:x"},
      {"SET @'my var' = 2", "read session set=user_variable:my var"},
      {"SET @`v` = 3, @\"w\" = 4", "read session set=user_variable:v,user_variable:w"},
      {"SET a = 1, @b = 2, NAMES utf8",
       "read session set=session_variable:a,user_variable:b,names:utf8"},
      {"SET SESSION a = 1, GLOBAL b = 2, c = 3",
       "write:server_admin session set=session_variable:a,global_variable:b,global_variable:c"},
      {"SET GLOBAL a = 1, SESSION b = 2",
       "write:server_admin session set=global_variable:a,session_variable:b"},
      {"SET @x = (SELECT MAX(id) FROM t)", "read session set=user_variable:x"},
      {"SET @x = LAST_INSERT_ID()",
       "write:last_insert_id session set=user_variable:x last_insert_id"},
      {"SET @x = GET_LOCK('a', 1)", "write:side_effect_function session set=user_variable:x"},
      {"SET @x = db.f()", "write:stored_function session set=user_variable:x"},
      {"SET @x = (SELECT a FROM t FOR UPDATE)", "write:locking_read session set=user_variable:x"},
      {"SET @x = NEXT VALUE FOR s", "write:side_effect_function session set=user_variable:x"},
      {"SET ROLE admin", "read session set=role:admin"},
      {"SET ROLE NONE", "read session set=role:NONE"},
      {"SET @a = 1, @b = 2, @c = 3, @d = 4, @e = 5, @f = 6",
       "read session set=user_variable:a,user_variable:b,user_variable:c,user_variable:d,"
       "user_variable:e,user_variable:f"},
      {"/*!40101 SET NAMES utf8 */", "read session set=names:utf8"},
      {"/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;",
       "read session set=user_variable:OLD_CHARACTER_SET_CLIENT"},
      {"SET @x = 1; SELECT @x", "write:multi_statement session set=user_variable:x stmts=2"},
      {"SET NAMES utf8mb4; SET autocommit = 0",
       "write:multi_statement autocommit=off session set=names:utf8mb4,"
       "session_variable:autocommit stmts=2"},
      {"SET STATEMENT max_statement_time = 1 FOR SELECT * FROM t", "read"},
      {"SET STATEMENT max_statement_time = 1 FOR UPDATE t SET a = 1", "write:data_change"},
      {"SET STATEMENT a = NEXT VALUE FOR s FOR SELECT 1", "write:side_effect_function"},
      {"SET STATEMENT x = 1", "write:unknown"},
      {"SET", "write:unknown"},
      {"SET x", "write:unknown"},
      {"SET @x =", "write:unknown"},
      {"SET @x = , @y = 1", "write:unknown"},
      {"SET NAMES", "write:unknown"},
  };
}

std::vector<Case> multi_statement_and_hint_cases() {
  return {
      {"SELECT 1; SELECT 2", "write:multi_statement stmts=2"},
      {"SELECT 1;SELECT 2;", "write:multi_statement stmts=2"},
      {"SELECT 1; UPDATE t SET a = 1", "write:multi_statement stmts=2"},
      {"SELECT 1 /* ; */; -- ;\n SELECT 2", "write:multi_statement stmts=2"},
      {"SELECT ';'; SELECT 2", "write:multi_statement stmts=2"},
      {"SELECT 1; CREATE TEMPORARY TABLE t (a INT)",
       "write:multi_statement tables=create_temporary:t stmts=2"},
      {"/* replproxy: route=primary */ SELECT 1", "read hint=primary"},
      {"SELECT 1 /* replproxy: route=replica */", "read hint=replica"},
      {"SELECT /* replproxy:route=backend:db2 */ 1", "read hint=backend:db2"},
      {"/* replproxy: route=backend:db-2_x.y */ SELECT 1", "read hint=backend:db-2_x.y"},
      {"/* REPLPROXY: ROUTE = PRIMARY */ SELECT 1", "read hint=primary"},
      {"-- replproxy: route=replica\nSELECT 1", "read hint=replica"},
      {"# replproxy: route=primary\nSELECT 1", "read hint=primary"},
      {"/*+ replproxy: route=primary */ SELECT 1", "read hint=primary"},
      {"/* app=x, replproxy: route=replica */ SELECT 1", "read hint=replica"},
      {"/* replproxy: route=primary */ /* replproxy: route=replica */ SELECT 1",
       "read hint=primary"},
      {"/* replproxy: route=sideways */ SELECT 1", "read hint=invalid"},
      {"/* replproxy: route=sideways */ SELECT /* replproxy: route=replica */ 1",
       "read hint=replica"},
      {"/* replproxy: route=backend: */ SELECT 1", "read hint=invalid"},
      {"/* replproxy route=primary */ SELECT 1", "read hint=invalid"},
      {"SELECT '/* replproxy: route=primary */'", "read"},
      {"INSERT INTO t VALUES (1) /* replproxy: route=replica */", "write:data_change hint=replica"},
      {"/* replproxy: route=replica */ COMMIT",
       "write:transaction_control trx=commit hint=replica"},
      {"SELECT 1; SELECT 2 /* replproxy: route=replica */",
       "write:multi_statement hint=replica stmts=2"},
  };
}

std::vector<Case> all_cases() {
  std::vector<Case> all;
  for (auto group : {plain_reads, other_reads, lexical_cases, data_changes, primary_only_selects,
                     transaction_cases, implicit_commit_cases, admin_cases, session_state_cases,
                     multi_statement_and_hint_cases}) {
    for (Case& c : group()) {
      all.push_back(std::move(c));
    }
  }
  return all;
}

// Keeps gtest from printing the case as raw bytes.
void PrintTo(const Case& c, std::ostream* out) { *out << c.sql; }

class ClassifyTable : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyTable, Summary) {
  EXPECT_EQ(testutil::describe(classify(GetParam().sql)), GetParam().expected)
      << "SQL: " << GetParam().sql;
}

INSTANTIATE_TEST_SUITE_P(Statements, ClassifyTable, ::testing::ValuesIn(all_cases()),
                         [](const auto& info) { return std::to_string(info.index); });

TEST(ClassifyTable, HasAtLeastTwoHundredStatements) { EXPECT_GE(all_cases().size(), 200u); }

}  // namespace
}  // namespace replproxy::router
