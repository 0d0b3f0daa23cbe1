-- Vetrina: PostgreSQL schema for Orleans ADO.NET clustering, grain persistence and reminders.
--
-- Orleans invariant "Npgsql". Each provider reads its query texts from OrleansQuery once, when it
-- starts, so silos must restart to pick up a changed text.
--
-- Idempotent and safe to run concurrently: every silo applies it at start-up, inside one
-- transaction serialised by an advisory lock, so three silos starting together do not race.
-- Run it as ONE command; Npgsql splits the statements itself.
--
-- Contract notes (Orleans binds parameters by name with typed DbTypes, reads result columns by name):
--   * Hashes (@GrainIdHash, @GrainTypeHash, @GrainHash, @BeginHash, @EndHash) are signed int32.
--   * Versions are int32. For grain state, an empty result, NULL, or the caller's own version echoed
--     back all mean "version conflict" (InconsistentStateException).
--   * Membership changes must be atomic with the bump of the table version: each one is a single
--     statement that first locks the version row at the expected version (FOR UPDATE re-checks the
--     row after waiting, so a concurrent change makes it match nothing), then changes the member
--     row only if the lock matched, then bumps the version only if the member row changed.
--   * Timestamps are timestamptz; Npgsql hands them back as UTC DateTime, as Orleans expects.
--   * Statuses are Orleans' SiloStatus numbers: 3 = Active, 6 = Dead.

BEGIN;

SELECT pg_advisory_xact_lock(7316047261053);

CREATE TABLE IF NOT EXISTS orleansquery
(
    querykey  varchar(64) NOT NULL PRIMARY KEY,
    querytext text        NOT NULL
);

------------------------------------------------------------------------------------------
-- Clustering (membership)
------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS orleansmembershipversiontable
(
    deploymentid varchar(150) NOT NULL PRIMARY KEY,
    timestamp    timestamptz  NOT NULL DEFAULT now(),
    version      integer      NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS orleansmembershiptable
(
    deploymentid varchar(150)  NOT NULL REFERENCES orleansmembershipversiontable (deploymentid),
    address      varchar(45)   NOT NULL,
    port         integer       NOT NULL,
    generation   integer       NOT NULL,
    siloname     varchar(150)  NOT NULL,
    hostname     varchar(150)  NOT NULL,
    status       integer       NOT NULL,
    proxyport    integer       NULL,
    suspecttimes varchar(8000) NULL,
    starttime    timestamptz   NOT NULL,
    iamalivetime timestamptz   NOT NULL,
    PRIMARY KEY (deploymentid, address, port, generation)
);

-- One boolean: whether this call created the cluster's version row.
INSERT INTO orleansquery (querykey, querytext) VALUES ('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO orleansmembershipversiontable (deploymentid)
    VALUES (@DeploymentId)
    ON CONFLICT (deploymentid) DO NOTHING
    RETURNING 1
)
SELECT count(*) > 0 FROM created;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- The version row always comes back (with NULL member columns when there are no members), so
-- Orleans can read the table version of an empty cluster.
INSERT INTO orleansquery (querykey, querytext) VALUES ('MembershipReadAllKey', $q$
SELECT v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime
FROM orleansmembershipversiontable v
LEFT JOIN orleansmembershiptable m ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

INSERT INTO orleansquery (querykey, querytext) VALUES ('MembershipReadRowKey', $q$
SELECT v.version, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime
FROM orleansmembershipversiontable v
LEFT JOIN orleansmembershiptable m
       ON m.deploymentid = v.deploymentid
      AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- One boolean: the member row was added and the table version moved from @Version to @Version + 1.
INSERT INTO orleansquery (querykey, querytext) VALUES ('InsertMembershipKey', $q$
WITH expected AS (
    SELECT deploymentid FROM orleansmembershipversiontable
    WHERE deploymentid = @DeploymentId AND version = @Version
    FOR UPDATE
), added AS (
    INSERT INTO orleansmembershiptable
        (deploymentid, address, port, generation, siloname, hostname, status, proxyport, starttime, iamalivetime)
    SELECT deploymentid, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort, @StartTime, @IAmAliveTime
    FROM expected
    ON CONFLICT (deploymentid, address, port, generation) DO NOTHING
    RETURNING deploymentid
), bumped AS (
    UPDATE orleansmembershipversiontable
    SET version = version + 1, timestamp = now()
    WHERE deploymentid IN (SELECT deploymentid FROM added)
    RETURNING 1
)
SELECT count(*) > 0 FROM bumped;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- One boolean: the member row changed and the table version moved from @Version to @Version + 1.
INSERT INTO orleansquery (querykey, querytext) VALUES ('UpdateMembershipKey', $q$
WITH expected AS (
    SELECT deploymentid FROM orleansmembershipversiontable
    WHERE deploymentid = @DeploymentId AND version = @Version
    FOR UPDATE
), changed AS (
    UPDATE orleansmembershiptable
    SET status = @Status, suspecttimes = @SuspectTimes, iamalivetime = @IAmAliveTime
    WHERE deploymentid IN (SELECT deploymentid FROM expected)
      AND address = @Address AND port = @Port AND generation = @Generation
    RETURNING deploymentid
), bumped AS (
    UPDATE orleansmembershipversiontable
    SET version = version + 1, timestamp = now()
    WHERE deploymentid IN (SELECT deploymentid FROM changed)
    RETURNING 1
)
SELECT count(*) > 0 FROM bumped;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- A heartbeat: not a membership change, so the table version stays.
INSERT INTO orleansquery (querykey, querytext) VALUES ('UpdateIAmAlivetimeKey', $q$
UPDATE orleansmembershiptable
SET iamalivetime = @IAmAliveTime
WHERE deploymentid = @DeploymentId
  AND address = @Address AND port = @Port AND generation = @Generation;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- Clients and the gateway list read the active silos' gateway endpoints.
INSERT INTO orleansquery (querykey, querytext) VALUES ('GatewaysQueryKey', $q$
SELECT address, proxyport, generation
FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND status = @Status AND proxyport > 0;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteMembershipTableEntriesKey', $q$
DELETE FROM orleansmembershiptable WHERE deploymentid = @DeploymentId;
DELETE FROM orleansmembershipversiontable WHERE deploymentid = @DeploymentId;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- Silos that are not active (dead, or died while joining or stopping) and stopped heart-beating before
-- @IAmAliveTime leave the table.
INSERT INTO orleansquery (querykey, querytext) VALUES ('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM orleansmembershiptable
WHERE deploymentid = @DeploymentId AND iamalivetime < @IAmAliveTime AND status <> 3;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

------------------------------------------------------------------------------------------
-- Grain persistence
------------------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS orleansstorage
(
    grainidhash            integer      NOT NULL,
    grainidn0              bigint       NOT NULL,
    grainidn1              bigint       NOT NULL,
    graintypehash          integer      NOT NULL,
    graintypestring        varchar(512) NOT NULL,
    grainidextensionstring varchar(512) NULL,
    serviceid              varchar(150) NOT NULL,
    payloadbinary          bytea        NULL,
    modifiedon             timestamptz  NOT NULL,
    version                integer      NOT NULL
);

-- NULL and '' extensions are different grains, hence the two expressions; upserts target this index.
-- Indexes are created only when missing: CREATE INDEX IF NOT EXISTS would lock the table against every grain
-- write until this transaction ends, at every silo start, even when the index exists.
DO $do$
BEGIN
    IF to_regclass('ux_orleansstorage_grainkey') IS NULL THEN
        CREATE UNIQUE INDEX ux_orleansstorage_grainkey ON orleansstorage
        (
            serviceid, graintypestring, grainidn0, grainidn1,
            (grainidextensionstring IS NULL), coalesce(grainidextensionstring, '')
        );
    END IF;
END
$do$;

-- Every lookup of one grain's row goes through this index. The unique index above cannot serve it: Orleans
-- sends string keys (all of Vetrina's) as N0 = N1 = 0 with the key in the extension, so its usable prefix
-- matches every grain of a type, and a read would scan them all (linear in the number of orders). Built here
-- only when missing; on a large database of an earlier build, create it first without blocking writes:
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orleansstorage_grainhash ON orleansstorage (grainidhash, graintypehash);
DO $do$
BEGIN
    IF to_regclass('ix_orleansstorage_grainhash') IS NULL THEN
        CREATE INDEX ix_orleansstorage_grainhash ON orleansstorage (grainidhash, graintypehash);
    END IF;
END
$do$;

-- NewGrainStateVersion: 1 for a first write, old + 1 after; no row on conflict (the row exists but
-- the caller's version is NULL or stale, or the row is gone but the caller still holds a version).
INSERT INTO orleansquery (querykey, querytext) VALUES ('WriteToStorageKey', $q$
INSERT INTO orleansstorage
    (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring,
     serviceid, payloadbinary, modifiedon, version)
SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString, @GrainIdExtensionString,
       @ServiceId, @PayloadBinary, now(), 1
WHERE @GrainStateVersion::integer IS NULL
   OR EXISTS (SELECT 1 FROM orleansstorage
              WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
                AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
                AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
                AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString)
ON CONFLICT (serviceid, graintypestring, grainidn0, grainidn1,
             (grainidextensionstring IS NULL), coalesce(grainidextensionstring, ''))
DO UPDATE SET payloadbinary = excluded.payloadbinary,
              modifiedon    = excluded.modifiedon,
              version       = orleansstorage.version + 1
WHERE orleansstorage.version = @GrainStateVersion::integer
RETURNING version AS NewGrainStateVersion;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadFromStorageKey', $q$
SELECT payloadbinary AS PayloadBinary, version AS Version
FROM orleansstorage
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- Keeps the row and its version; drops the payload. No row means conflict.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ClearStorageKey', $q$
UPDATE orleansstorage
SET payloadbinary = NULL, modifiedon = now(), version = version + 1
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion::integer
RETURNING version AS NewGrainStateVersion;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- Only with DeleteStateOnClear: Orleans expects "deleted version + 1"; no row means conflict.
INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteStorageKey', $q$
DELETE FROM orleansstorage
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
  AND version = @GrainStateVersion::integer
RETURNING version + 1 AS NewGrainStateVersion;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

------------------------------------------------------------------------------------------
-- Reminders
------------------------------------------------------------------------------------------

-- Period in milliseconds.
CREATE TABLE IF NOT EXISTS orleansreminderstable
(
    serviceid    varchar(150) NOT NULL,
    grainid      varchar(512) NOT NULL,
    remindername varchar(150) NOT NULL,
    starttime    timestamptz  NOT NULL,
    period       bigint       NOT NULL,
    grainhash    integer      NOT NULL,
    version      integer      NOT NULL,
    PRIMARY KEY (serviceid, grainid, remindername)
);

-- The reminder service of each silo loads its share of the hash ring.
-- Only when missing, as above: a reminder write of a running silo must not wait for this start.
DO $do$
BEGIN
    IF to_regclass('ix_orleansreminderstable_grainhash') IS NULL THEN
        CREATE INDEX ix_orleansreminderstable_grainhash ON orleansreminderstable (serviceid, grainhash);
    END IF;
END
$do$;

-- Exactly one row with the new Version (the ETag).
INSERT INTO orleansquery (querykey, querytext) VALUES ('UpsertReminderRowKey', $q$
INSERT INTO orleansreminderstable (serviceid, grainid, remindername, starttime, period, grainhash, version)
VALUES (@ServiceId, @GrainId, @ReminderName, @StartTime, @Period, @GrainHash, 0)
ON CONFLICT (serviceid, grainid, remindername) DO UPDATE
SET starttime = excluded.starttime, period = excluded.period, grainhash = excluded.grainhash,
    version = orleansreminderstable.version + 1
RETURNING version AS Version;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadReminderRowsKey', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainid = @GrainId;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadReminderRowKey', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainid = @GrainId AND remindername = @ReminderName;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- The range (BeginHash, EndHash]; Orleans picks this key when BeginHash < EndHash (signed).
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadRangeRows1Key', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND grainhash > @BeginHash AND grainhash <= @EndHash;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- A range that wraps around: above BeginHash, or up to EndHash.
INSERT INTO orleansquery (querykey, querytext) VALUES ('ReadRangeRows2Key', $q$
SELECT grainid AS GrainId, remindername AS ReminderName, starttime AS StartTime, period AS Period, version AS Version
FROM orleansreminderstable
WHERE serviceid = @ServiceId AND (grainhash > @BeginHash OR grainhash <= @EndHash);
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

-- One boolean: the row was removed at that version.
INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteReminderRowKey', $q$
WITH removed AS (
    DELETE FROM orleansreminderstable
    WHERE serviceid = @ServiceId AND grainid = @GrainId AND remindername = @ReminderName AND version = @Version
    RETURNING 1
)
SELECT count(*) > 0 FROM removed;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

INSERT INTO orleansquery (querykey, querytext) VALUES ('DeleteReminderRowsKey', $q$
DELETE FROM orleansreminderstable WHERE serviceid = @ServiceId;
$q$) ON CONFLICT (querykey) DO UPDATE SET querytext = excluded.querytext;

COMMIT;
