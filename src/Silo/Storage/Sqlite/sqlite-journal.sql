-- Vetrina: the sales journal in SQLite, tables of our own beside Orleans' (see SqliteSalesJournal).
--
-- Idempotent: applied at every start. The tables mirror postgres-journal.sql:
--   * vetrina_journal_checkouts: one row per checkout id, its first outcome (JSON); the primary key is what makes
--     a replayed Idempotency-Key unable to sell twice.
--   * vetrina_journal_orders: one row per order of a paid checkout; an order grain loads its row when first read;
--     its fulfilment stage lists the brand's work.
--   * vetrina_product_stock: the stock a product sells from; the batch's update is conditional on
--     sold + units <= stocked and the CHECK backs it, so the database itself refuses an oversell.
--   * vetrina_stock_operations: restocks already applied, by operation id.
--   * vetrina_journal_charges: charges about to be made, removed by the commit that journals their checkouts.
--   * vetrina_journal_writers: one row per run's desk: heartbeat (Unix ms) and how far its batches were projected;
--     a commit writes nothing once its writer is closed, and a closed writer's batches are projected by its taker.
--   * vetrina_deals, vetrina_deal_buyers: a flash deal's per-buyer limit and each buyer's units (the CHECK refuses more
--     than the limit); a deal's units are a stock row of its own in vetrina_product_stock, keyed by the deal id.
--   * vetrina_shopper_clicks: the latest click of each shopper on each product (times in Unix ms), read at checkout.

BEGIN IMMEDIATE;

CREATE TABLE IF NOT EXISTS vetrina_journal_checkouts
(
    checkout_id    TEXT    NOT NULL PRIMARY KEY,
    writer_id      TEXT    NOT NULL,
    batch_sequence INTEGER NOT NULL,
    succeeded      INTEGER NOT NULL,
    record         TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX IF NOT EXISTS vetrina_journal_checkouts_batch ON vetrina_journal_checkouts (writer_id, batch_sequence);

CREATE TABLE IF NOT EXISTS vetrina_journal_orders
(
    order_id    TEXT    NOT NULL PRIMARY KEY,
    checkout_id TEXT    NOT NULL,
    brand_id    TEXT    NOT NULL,
    shopper_id  TEXT    NOT NULL,
    currency    TEXT    NOT NULL,
    total_minor INTEGER NOT NULL,
    created_at  TEXT    NOT NULL,
    draft       TEXT    NOT NULL,
    stage       INTEGER
);

-- stage: 0 to ship, 1 to deliver, 2 done, only ever raised; NULL for orders journalled before stages were kept (the
-- column is added to such a file before this script runs). The index serves the brand console's lists.
CREATE INDEX IF NOT EXISTS vetrina_journal_orders_stage ON vetrina_journal_orders (brand_id, stage, created_at, order_id);
DROP INDEX IF EXISTS vetrina_journal_orders_brand;

CREATE TABLE IF NOT EXISTS vetrina_product_stock
(
    product_id TEXT    NOT NULL PRIMARY KEY,
    stocked    INTEGER NOT NULL,
    sold       INTEGER NOT NULL,
    version    INTEGER NOT NULL,
    CHECK (sold <= stocked),
    CHECK (sold >= 0)
);

CREATE TABLE IF NOT EXISTS vetrina_stock_operations
(
    operation_id TEXT    NOT NULL PRIMARY KEY,
    product_id   TEXT    NOT NULL,
    quantity     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS vetrina_journal_charges
(
    checkout_id  TEXT    NOT NULL PRIMARY KEY,
    amount_minor INTEGER NOT NULL,
    currency     TEXT    NOT NULL,
    created_ms   INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS vetrina_journal_writers
(
    writer_id         TEXT    NOT NULL PRIMARY KEY,
    heartbeat_ms      INTEGER NOT NULL,
    projected_through INTEGER NOT NULL DEFAULT 0,
    sending_through   INTEGER NOT NULL DEFAULT 0,
    closed            INTEGER NOT NULL DEFAULT 0,
    retired           INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE IF NOT EXISTS vetrina_shopper_clicks
(
    shopper_id          TEXT    NOT NULL,
    product_id          TEXT    NOT NULL,
    code                TEXT    NOT NULL,
    creator_id          TEXT    NOT NULL,
    creator_shopper_id  TEXT,
    clicked_ms          INTEGER NOT NULL,
    attributed_until_ms INTEGER NOT NULL,
    campaign_id         TEXT, -- a click on a brand's ad (empty code and creator); SqliteDatabase adds it to older files
    PRIMARY KEY (shopper_id, product_id)
);

CREATE INDEX IF NOT EXISTS vetrina_shopper_clicks_expiry ON vetrina_shopper_clicks (attributed_until_ms);

CREATE TABLE IF NOT EXISTS vetrina_deals
(
    deal_id     TEXT    NOT NULL PRIMARY KEY,
    product_id  TEXT    NOT NULL,
    buyer_limit INTEGER NOT NULL CHECK (buyer_limit > 0)
);

CREATE TABLE IF NOT EXISTS vetrina_deal_buyers
(
    deal_id     TEXT    NOT NULL,
    shopper_id  TEXT    NOT NULL,
    units       INTEGER NOT NULL,
    buyer_limit INTEGER NOT NULL,
    PRIMARY KEY (deal_id, shopper_id),
    CONSTRAINT vetrina_deal_buyers_within_limit CHECK (units <= buyer_limit)
);

-- The creators' books (see ICreatorBooks): every movement of every creator's ledger, kept once by its key; a
-- creator is listed under each currency it ever had a movement in, which is what a payout run pages through.
CREATE TABLE IF NOT EXISTS vetrina_ledger_movements
(
    creator_id   TEXT    NOT NULL,
    movement_key TEXT    NOT NULL,
    currency     TEXT    NOT NULL,
    kind         INTEGER NOT NULL,
    amount_minor INTEGER NOT NULL,
    at_ms        INTEGER NOT NULL,
    order_id     TEXT,
    payout_id    TEXT,
    run_id       TEXT,
    PRIMARY KEY (creator_id, movement_key)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS vetrina_ledger_movements_time ON vetrina_ledger_movements (creator_id, currency, at_ms);

CREATE INDEX IF NOT EXISTS vetrina_ledger_movements_run ON vetrina_ledger_movements (run_id) WHERE run_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS vetrina_creator_currencies
(
    currency   TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    PRIMARY KEY (currency, creator_id)
) WITHOUT ROWID;

-- The report projection (see IReportBook): an owner's figures per dimension, currency and UTC bucket, kept per hour
-- (granularity 0) and per day (1), buckets in Unix seconds; a write adds to the sums. vetrina_report_operations keeps
-- the ids of applied writes, so a repeated one adds nothing; vetrina_report_currencies lists each owner's currencies.
CREATE TABLE IF NOT EXISTS vetrina_report_cells
(
    owner            TEXT    NOT NULL,
    granularity      INTEGER NOT NULL,
    dimension        TEXT    NOT NULL,
    bucket           INTEGER NOT NULL,
    currency         TEXT    NOT NULL,
    clicks           INTEGER NOT NULL,
    orders           INTEGER NOT NULL,
    units            INTEGER NOT NULL,
    gmv_minor        INTEGER NOT NULL,
    commission_minor INTEGER NOT NULL,
    PRIMARY KEY (owner, granularity, dimension, bucket, currency)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS vetrina_report_operations
(
    operation_id TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS vetrina_report_currencies
(
    owner    TEXT NOT NULL,
    currency TEXT NOT NULL,
    PRIMARY KEY (owner, currency)
) WITHOUT ROWID;

-- Ads' spend (see IAdSpendStore): a row per campaign, which a batch of paid clicks changes in one immediate
-- transaction (SQLite's single writer serialises them). spent_day is the UTC day of the last charge in Unix days;
-- on a new day today's spend counts from 0. A charge only raises the spend while it fits both budgets: the update
-- says so in its WHERE, so a write that would pass one changes nothing; the CHECKs are what always holds (a budget
-- may be lowered below what was already spent). vetrina_ad_charges keeps each charged product and shopper per
-- campaign and when (Unix microseconds), for the rule that a repeat within 24 hours is free.
CREATE TABLE IF NOT EXISTS vetrina_ad_spend
(
    campaign_id        TEXT    NOT NULL PRIMARY KEY,
    daily_budget_minor INTEGER NOT NULL,
    total_budget_minor INTEGER,
    spent_minor        INTEGER NOT NULL DEFAULT 0,
    spent_day          INTEGER NOT NULL DEFAULT 0,
    spent_today_minor  INTEGER NOT NULL DEFAULT 0,
    charged_clicks     INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT vetrina_ad_spend_budgets_not_negative CHECK (daily_budget_minor >= 0 AND (total_budget_minor IS NULL OR total_budget_minor >= 0)),
    CONSTRAINT vetrina_ad_spend_spend_consistent CHECK (spent_today_minor >= 0 AND spent_today_minor <= spent_minor AND charged_clicks >= 0)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS vetrina_ad_charges
(
    campaign_id TEXT    NOT NULL,
    product_id  TEXT    NOT NULL,
    shopper_id  TEXT    NOT NULL,
    charged_us  INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, product_id, shopper_id)
) WITHOUT ROWID;

-- The data-protection key ring (see DatabaseKeyRing): the keys that sign and encrypt console cookies and form
-- tokens, one XML element per row, as ASP.NET Core's key manager writes them.
CREATE TABLE IF NOT EXISTS vetrina_data_protection_keys
(
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    friendly_name TEXT NOT NULL,
    xml           TEXT NOT NULL
);

COMMIT;
