-- Vetrina: SQLite schema for Orleans ADO.NET grain persistence and reminders.
--
-- Orleans invariant "System.Data.SQLite" (which Orleans maps to Microsoft.Data.Sqlite).
-- Orleans reads the query texts below from OrleansQuery once, when each provider starts,
-- so a silo restart is needed after this script changes them.
--
-- Idempotent: safe to run at every startup. Execute it as ONE command
-- (SqliteCommand.ExecuteNonQuery); do not split on ';' because the query texts contain ';'.
--
-- Contract notes (Orleans binds parameters by name, reads result columns by name or position):
--   * Hashes (@GrainIdHash, @GrainTypeHash, @GrainHash, @BeginHash, @EndHash) arrive as signed int32.
--   * Versions are int32 in .NET; an empty result, a NULL, or the caller's own version echoed
--     back all mean "version conflict" to the grain storage (InconsistentStateException).
--   * Microsoft.Data.Sqlite rejects a statement that references a parameter Orleans did not
--     pass, so each query uses only the parameters of its own operation.
--   * Every data-changing query is one statement (UPSERT / RETURNING): SQLite makes a single
--     statement atomic, and Microsoft.Data.Sqlite can safely retry it on SQLITE_BUSY.

-- WAL lets readers run alongside the single writer; the setting is stored in the database file.
PRAGMA journal_mode = WAL;

BEGIN IMMEDIATE;

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);

------------------------------------------------------------------------------------------
-- Grain persistence
------------------------------------------------------------------------------------------

-- The hash columns are kept to match the layout used by the other Orleans vendors (and for
-- diagnostics); identity is the natural key, which SQLite can index without width limits.
CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            INTEGER NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdExtensionString TEXT    NULL,
    ServiceId              TEXT    NOT NULL,
    PayloadBinary          BLOB    NULL,
    ModifiedOn             TEXT    NOT NULL,
    Version                INTEGER NOT NULL
);

-- NULL and '' extensions are different grains (e.g. string keys "5" and "5+"), and SQLite
-- treats NULLs as distinct in UNIQUE indexes, hence the two expressions. Upserts target it.
CREATE UNIQUE INDEX IF NOT EXISTS UX_OrleansStorage_GrainKey ON OrleansStorage
(
    ServiceId, GrainTypeString, GrainIdN0, GrainIdN1,
    GrainIdExtensionString IS NULL, IFNULL(GrainIdExtensionString, '')
);

-- Every lookup of one grain's row goes through this index. The unique index above cannot serve it: Orleans
-- sends string keys (all of Vetrina's) as N0 = N1 = 0 with the key in the extension, so its usable prefix
-- matches every grain of a type, and a read would scan them all (linear in the number of orders).
CREATE INDEX IF NOT EXISTS IX_OrleansStorage_GrainHash ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- Returns NewGrainStateVersion (1 for a first write, old + 1 after), or no row on conflict:
-- the row exists but @GrainStateVersion is NULL or stale, or the row is gone but the caller
-- still holds a version. Inserting is attempted only to reach the ON CONFLICT update path.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('WriteToStorageKey', '
INSERT INTO OrleansStorage
    (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString, GrainIdExtensionString,
     ServiceId, PayloadBinary, ModifiedOn, Version)
SELECT
    @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
    @ServiceId, @PayloadBinary, strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), 1
WHERE @GrainStateVersion IS NULL
   OR EXISTS (SELECT 1 FROM OrleansStorage
              WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
                AND ServiceId = @ServiceId
                AND GrainTypeString = @GrainTypeString
                AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
                AND GrainIdExtensionString IS @GrainIdExtensionString)
ON CONFLICT (ServiceId, GrainTypeString, GrainIdN0, GrainIdN1,
             GrainIdExtensionString IS NULL, IFNULL(GrainIdExtensionString, ''''))
DO UPDATE SET
    PayloadBinary = excluded.PayloadBinary,
    ModifiedOn    = excluded.ModifiedOn,
    Version       = OrleansStorage.Version + 1
WHERE OrleansStorage.Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
');

-- Zero or one row: PayloadBinary (NULL after a clear) and Version (becomes the ETag).
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadFromStorageKey', '
SELECT PayloadBinary, Version
FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId
  AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString IS @GrainIdExtensionString
LIMIT 1;
');

-- Keeps the row (and its version history) but drops the payload; Orleans reads the
-- new version from the first column. No row means conflict.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ClearStorageKey', '
UPDATE OrleansStorage
SET PayloadBinary = NULL,
    ModifiedOn    = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''),
    Version       = Version + 1
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId
  AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString IS @GrainIdExtensionString
  AND Version = @GrainStateVersion
RETURNING Version AS NewGrainStateVersion;
');

-- Used only with AdoNetGrainStorageOptions.DeleteStateOnClear = true. Orleans expects
-- "deleted version + 1" so the result differs from the caller's ETag; no row means conflict.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteStorageKey', '
DELETE FROM OrleansStorage
WHERE GrainIdHash = @GrainIdHash AND GrainTypeHash = @GrainTypeHash
  AND ServiceId = @ServiceId
  AND GrainTypeString = @GrainTypeString
  AND GrainIdN0 = @GrainIdN0 AND GrainIdN1 = @GrainIdN1
  AND GrainIdExtensionString IS @GrainIdExtensionString
  AND Version = @GrainStateVersion
RETURNING Version + 1 AS NewGrainStateVersion;
');

------------------------------------------------------------------------------------------
-- Reminders
------------------------------------------------------------------------------------------

-- StartTime holds the text Microsoft.Data.Sqlite writes for a DateTime parameter (UTC,
-- 'yyyy-MM-dd HH:mm:ss.fffffff'); it must stay text so GetDateTime can parse it back.
-- Period is in milliseconds.
CREATE TABLE IF NOT EXISTS OrleansRemindersTable
(
    ServiceId    TEXT    NOT NULL,
    GrainId      TEXT    NOT NULL,
    ReminderName TEXT    NOT NULL,
    StartTime    TEXT    NOT NULL,
    Period       INTEGER NOT NULL,
    GrainHash    INTEGER NOT NULL,
    Version      INTEGER NOT NULL,
    PRIMARY KEY (ServiceId, GrainId, ReminderName)
);

-- The reminder service loads reminders by hash ring range.
CREATE INDEX IF NOT EXISTS IX_OrleansRemindersTable_GrainHash
    ON OrleansRemindersTable (ServiceId, GrainHash);

-- Must return exactly one row with column Version (the new ETag).
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('UpsertReminderRowKey', '
INSERT INTO OrleansRemindersTable
    (ServiceId, GrainId, ReminderName, StartTime, Period, GrainHash, Version)
VALUES
    (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (ServiceId, GrainId, ReminderName) DO UPDATE SET
    StartTime = excluded.StartTime,
    Period    = excluded.Period,
    GrainHash = excluded.GrainHash,
    Version   = OrleansRemindersTable.Version + 1
RETURNING Version;
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowsKey', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId;
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadReminderRowKey', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId AND ReminderName = @ReminderName;
');

-- Range (BeginHash, EndHash]; Orleans picks this key when BeginHash < EndHash (signed).
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows1Key', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND GrainHash > @BeginHash AND GrainHash <= @EndHash;
');

-- Wrapping range: everything above BeginHash plus everything up to EndHash.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('ReadRangeRows2Key', '
SELECT GrainId, ReminderName, StartTime, Period, Version
FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId
  AND (GrainHash > @BeginHash OR GrainHash <= @EndHash);
');

-- Must return exactly one single-column row: non-zero when the row (at that version) was removed.
INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowKey', '
DELETE FROM OrleansRemindersTable
WHERE ServiceId = @ServiceId AND GrainId = @GrainId
  AND ReminderName = @ReminderName AND Version = @Version;
SELECT changes();
');

INSERT OR REPLACE INTO OrleansQuery (QueryKey, QueryText) VALUES ('DeleteReminderRowsKey', '
DELETE FROM OrleansRemindersTable WHERE ServiceId = @ServiceId;
');

COMMIT;
