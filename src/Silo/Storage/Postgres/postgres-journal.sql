-- Vetrina: the sales journal in PostgreSQL, tables of our own beside Orleans' (see PostgresSalesJournal).
--
-- Idempotent and safe to run concurrently: applied at every silo start, serialised by the same advisory lock as
-- the Orleans script. Columns and indexes are added only when missing (a DO block looks first): ALTER TABLE and
-- CREATE INDEX IF NOT EXISTS would lock their table until this transaction ends, at every start, even when there was
-- nothing to add, and a silo joining a running cluster would hold up its buys meanwhile.
--
--   * vetrina_journal_checkouts: one row per checkout id, its first outcome (JSON), written by one desk batch.
--     The primary key is what makes a replayed Idempotency-Key unable to sell twice.
--   * vetrina_journal_orders: one row per order of a paid checkout; an order grain loads its row when first read;
--     its fulfilment stage, kept by the order as it is shipped, delivered or ends, lists the brand's work.
--   * vetrina_product_stock: the stock a product sells from. The CHECK is the database's own refusal to
--     oversell: a batch whose update would take sold above stocked fails as a whole and writes nothing.
--   * vetrina_stock_operations: restocks already applied, by operation id, so a repeated restock does nothing.
--   * vetrina_journal_charges: charges a desk is about to make, written before it makes them and removed by the
--     commit that journals their checkouts; one left behind long after is voided as abandoned.
--   * vetrina_journal_writers: one row per silo run's desk: its heartbeat and how far its batches were projected.
--     A commit holds its writer's row FOR SHARE and writes nothing once the row is closed; a silo taking over a
--     dead writer closes it (waiting for a commit under way) and then projects what the journal has of it.
--   * vetrina_deals, vetrina_deal_buyers: a flash deal's per-buyer limit and each buyer's units of it. A deal's units
--     are a stock row of its own in vetrina_product_stock (keyed by the deal id), carved from its product's; the
--     CHECK on a buyer's row is the database's own refusal to sell anyone more than the limit.
--   * vetrina_shopper_clicks: the latest click of each shopper on each product while it can attribute a purchase;
--     written in batches by every silo's click desk, read at checkout on any silo, expired rows deleted.

BEGIN;

SELECT pg_advisory_xact_lock(7316047261053);

CREATE TABLE IF NOT EXISTS vetrina_journal_checkouts
(
    checkout_id    text        NOT NULL PRIMARY KEY,
    writer_id      text        NOT NULL,
    batch_sequence bigint      NOT NULL,
    succeeded      boolean     NOT NULL,
    record         text        NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);

DO $do$ BEGIN IF to_regclass('vetrina_journal_checkouts_batch') IS NULL THEN CREATE INDEX vetrina_journal_checkouts_batch ON vetrina_journal_checkouts (writer_id, batch_sequence); END IF; END $do$;

CREATE TABLE IF NOT EXISTS vetrina_journal_orders
(
    order_id    text        NOT NULL PRIMARY KEY,
    checkout_id text        NOT NULL,
    brand_id    text        NOT NULL,
    shopper_id  text        NOT NULL,
    currency    text        NOT NULL,
    total_minor bigint      NOT NULL,
    created_at  timestamptz NOT NULL,
    draft       text        NOT NULL,
    stage       smallint
);

-- stage is where the order stands in its brand's work (see IFulfilmentBook): 0 to ship (as journalled), 1 to deliver,
-- 2 done; an order's change of stage only ever raises it. NULL: journalled by a build that kept no stage (the column
-- is added to such a journal, and the order gets a stage at its next change). The index serves the brand console's
-- lists (a brand's orders at one stage, oldest first) and replaces the former (brand_id, created_at) one.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'vetrina_journal_orders' AND column_name = 'stage') THEN
        ALTER TABLE vetrina_journal_orders ADD COLUMN stage smallint;
    END IF;
END
$do$;
DO $do$ BEGIN IF to_regclass('vetrina_journal_orders_stage') IS NULL THEN CREATE INDEX vetrina_journal_orders_stage ON vetrina_journal_orders (brand_id, stage, created_at, order_id); END IF; END $do$;
DROP INDEX IF EXISTS vetrina_journal_orders_brand;

CREATE TABLE IF NOT EXISTS vetrina_product_stock
(
    product_id text   NOT NULL PRIMARY KEY,
    stocked    int    NOT NULL,
    sold       int    NOT NULL,
    version    bigint NOT NULL,
    CONSTRAINT vetrina_product_stock_not_oversold CHECK (sold <= stocked),
    CONSTRAINT vetrina_product_stock_sold_not_negative CHECK (sold >= 0)
);

CREATE TABLE IF NOT EXISTS vetrina_stock_operations
(
    operation_id text NOT NULL PRIMARY KEY,
    product_id   text NOT NULL,
    quantity     int  NOT NULL
);

CREATE TABLE IF NOT EXISTS vetrina_journal_charges
(
    checkout_id  text        NOT NULL PRIMARY KEY,
    amount_minor bigint      NOT NULL,
    currency     text        NOT NULL,
    created_at   timestamptz NOT NULL
);

DO $do$ BEGIN IF to_regclass('vetrina_journal_charges_age') IS NULL THEN CREATE INDEX vetrina_journal_charges_age ON vetrina_journal_charges (created_at); END IF; END $do$;

CREATE TABLE IF NOT EXISTS vetrina_journal_writers
(
    writer_id         text        NOT NULL PRIMARY KEY,
    heartbeat_at      timestamptz NOT NULL,
    projected_through bigint      NOT NULL DEFAULT 0,
    sending_through   bigint      NOT NULL DEFAULT 0,
    closed            boolean     NOT NULL DEFAULT false,
    retired           boolean     NOT NULL DEFAULT false
);

CREATE TABLE IF NOT EXISTS vetrina_shopper_clicks
(
    shopper_id         text        NOT NULL,
    product_id         text        NOT NULL,
    code               text        NOT NULL,
    creator_id         text        NOT NULL,
    creator_shopper_id text,
    clicked_at         timestamptz NOT NULL,
    attributed_until   timestamptz NOT NULL,
    campaign_id        text,
    PRIMARY KEY (shopper_id, product_id)
);

-- A click on a brand's ad (empty code and creator) names its campaign; added to tables made before ads existed.
DO $do$
BEGIN
    IF NOT EXISTS (SELECT FROM information_schema.columns
                   WHERE table_schema = current_schema() AND table_name = 'vetrina_shopper_clicks' AND column_name = 'campaign_id') THEN
        ALTER TABLE vetrina_shopper_clicks ADD COLUMN campaign_id text;
    END IF;
END
$do$;

DO $do$ BEGIN IF to_regclass('vetrina_shopper_clicks_expiry') IS NULL THEN CREATE INDEX vetrina_shopper_clicks_expiry ON vetrina_shopper_clicks (attributed_until); END IF; END $do$;

CREATE TABLE IF NOT EXISTS vetrina_deals
(
    deal_id     text    NOT NULL PRIMARY KEY,
    product_id  text    NOT NULL,
    buyer_limit integer NOT NULL CHECK (buyer_limit > 0)
);

CREATE TABLE IF NOT EXISTS vetrina_deal_buyers
(
    deal_id     text    NOT NULL,
    shopper_id  text    NOT NULL,
    units       integer NOT NULL,
    buyer_limit integer NOT NULL,
    PRIMARY KEY (deal_id, shopper_id),
    CONSTRAINT vetrina_deal_buyers_within_limit CHECK (units <= buyer_limit)
);

-- The creators' books (see ICreatorBooks): every movement of every creator's ledger, kept once by its key; a
-- creator is listed under each currency it ever had a movement in, which is what a payout run pages through.
CREATE TABLE IF NOT EXISTS vetrina_ledger_movements
(
    creator_id   text        NOT NULL,
    movement_key text        NOT NULL,
    currency     text        NOT NULL,
    kind         smallint    NOT NULL,
    amount_minor bigint      NOT NULL,
    at           timestamptz NOT NULL,
    order_id     text,
    payout_id    text,
    run_id       text,
    PRIMARY KEY (creator_id, movement_key)
);

DO $do$ BEGIN IF to_regclass('vetrina_ledger_movements_time') IS NULL THEN CREATE INDEX vetrina_ledger_movements_time ON vetrina_ledger_movements (creator_id, currency, at); END IF; END $do$;

DO $do$ BEGIN IF to_regclass('vetrina_ledger_movements_run') IS NULL THEN CREATE INDEX vetrina_ledger_movements_run ON vetrina_ledger_movements (run_id) WHERE run_id IS NOT NULL; END IF; END $do$;

CREATE TABLE IF NOT EXISTS vetrina_creator_currencies
(
    currency   text NOT NULL,
    creator_id text NOT NULL,
    PRIMARY KEY (currency, creator_id)
);

-- The report projection (see IReportBook): an owner's figures per dimension, currency and UTC bucket, kept per hour
-- (granularity 0) and per day (1); a write adds to the sums. Text keys compare bytewise (COLLATE "C"): a breakdown
-- reads a range of dimensions from a prefix to the prefix with its last character incremented, which only holds in
-- code point order. vetrina_report_operations keeps the ids of applied writes, so a repeated one adds nothing;
-- vetrina_report_currencies lists each owner's currencies.
CREATE TABLE IF NOT EXISTS vetrina_report_cells
(
    owner            text COLLATE "C" NOT NULL,
    granularity      smallint         NOT NULL,
    dimension        text COLLATE "C" NOT NULL,
    bucket           timestamptz      NOT NULL,
    currency         text COLLATE "C" NOT NULL,
    clicks           bigint           NOT NULL,
    orders           bigint           NOT NULL,
    units            bigint           NOT NULL,
    gmv_minor        bigint           NOT NULL,
    commission_minor bigint           NOT NULL,
    PRIMARY KEY (owner, granularity, dimension, bucket, currency)
);

-- A breakdown over a short period (the last day by hour) reads the rows of its buckets, not every bucket of its
-- dimensions (a dozen times fewer for the last 24 hours of an owner with 100,000 cells). Key columns only: the sums
-- an upsert changes are in no index, so the update can stay a heap-only one.
DO $do$ BEGIN IF to_regclass('vetrina_report_cells_period') IS NULL THEN CREATE INDEX vetrina_report_cells_period ON vetrina_report_cells (owner, granularity, bucket, dimension); END IF; END $do$;

CREATE TABLE IF NOT EXISTS vetrina_report_operations
(
    operation_id text NOT NULL PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS vetrina_report_currencies
(
    owner    text COLLATE "C" NOT NULL,
    currency text COLLATE "C" NOT NULL,
    PRIMARY KEY (owner, currency)
);

-- Ads' spend (see IAdSpendStore): a row per campaign, the hot counter every silo's paid clicks charge. A batch locks
-- its campaigns' rows (FOR UPDATE, in campaign id order, so silos charging overlapping campaigns never deadlock),
-- decides its clicks and writes them in the same transaction. spent_day is the UTC day of the last charge; on a new
-- day today's spend counts from 0. A charge only raises the spend while it fits both budgets: the update says so in
-- its WHERE, so a write that would pass one changes nothing; the CHECKs are what always holds (a budget may be
-- lowered below what was already spent). vetrina_ad_charges keeps each charged product and shopper per campaign and
-- when, for the rule that a repeat within 24 hours is free; it is only written under its campaign's row lock.
CREATE TABLE IF NOT EXISTS vetrina_ad_spend
(
    campaign_id        text COLLATE "C" NOT NULL PRIMARY KEY,
    daily_budget_minor bigint           NOT NULL,
    total_budget_minor bigint,
    spent_minor        bigint           NOT NULL DEFAULT 0,
    spent_day          date             NOT NULL DEFAULT '1970-01-01',
    spent_today_minor  bigint           NOT NULL DEFAULT 0,
    charged_clicks     bigint           NOT NULL DEFAULT 0,
    CONSTRAINT vetrina_ad_spend_budgets_not_negative CHECK (daily_budget_minor >= 0 AND (total_budget_minor IS NULL OR total_budget_minor >= 0)),
    CONSTRAINT vetrina_ad_spend_spend_consistent CHECK (spent_today_minor >= 0 AND spent_today_minor <= spent_minor AND charged_clicks >= 0)
);

CREATE TABLE IF NOT EXISTS vetrina_ad_charges
(
    campaign_id text COLLATE "C" NOT NULL,
    product_id  text COLLATE "C" NOT NULL,
    shopper_id  text COLLATE "C" NOT NULL,
    charged_at  timestamptz      NOT NULL,
    PRIMARY KEY (campaign_id, product_id, shopper_id)
);

-- The data-protection key ring every silo shares (see DatabaseKeyRing, PostgresKeyRingStart): the keys that sign and encrypt console
-- cookies and form tokens, one XML element per row, as ASP.NET Core's key manager writes them.
CREATE TABLE IF NOT EXISTS vetrina_data_protection_keys
(
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    friendly_name text NOT NULL,
    xml           text NOT NULL
);

COMMIT;
