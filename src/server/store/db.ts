import Database from 'better-sqlite3';

/**
 * One SQLite file for every entity. WAL + synchronous=NORMAL: a committed write survives
 * a killed process (only an OS crash could lose the last transactions).
 */
export function openDatabase(file: string): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  return db;
}
