-- kbharvest Knowledge Base: DuckDB schema (generated from kbharvest/store_schema.py;
-- regenerate with `python -m kbharvest.store_schema`). Schema version 1.
-- The search index (schema fts_main_search_docs over table search_docs) is built by
-- `kbharvest load` with DuckDB's fts extension. The compressions named need DuckDB's
-- storage format v1.5.0: run it in a file attached as
--   ATTACH 'kb.duckdb' AS kb (STORAGE_VERSION 'v1.5.0'); USE kb;

-- Key/value facts about the database itself (schema version, search index state).
CREATE TABLE IF NOT EXISTS kb_meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR
);

-- One row per archived capture that was loaded, article or not: its provenance and outcome.
CREATE TABLE IF NOT EXISTS captures (
    capture_id       VARCHAR USING COMPRESSION uncompressed NOT NULL, -- sha256 hex of (payload sha256, url, served timestamp): stable across runs; unique
    input            VARCHAR NOT NULL,                                -- where it was read: a file path, or <WARC file>#<WARC-Record-ID>
    url              VARCHAR,                                         -- the original URL the archive captured
    archive          VARCHAR USING COMPRESSION dict_fsst,            -- the archive it came from (e.g. web.archive.org)
    requested_ts     VARCHAR,                                         -- the 14-digit timestamp the crawler asked for
    served_ts        VARCHAR,                                         -- the 14-digit timestamp the archive served (the capture's time)
    captured_at      TIMESTAMP,                                       -- served_ts as a timestamp
    digest           VARCHAR USING COMPRESSION uncompressed,          -- the archive's (CDX) payload digest, as recorded
    sha256           VARCHAR USING COMPRESSION uncompressed NOT NULL, -- sha256 hex of the payload bytes as stored
    http_status      INTEGER,                                         -- the archived HTTP status (NULL for plain files)
    content_type     VARCHAR USING COMPRESSION dict_fsst,
    size             BIGINT,                                          -- payload size in bytes
    outcome          VARCHAR USING COMPRESSION dict_fsst NOT NULL,   -- 'article' or 'rejected'
    kb_id            BIGINT,                                          -- the article number, for articles
    template         VARCHAR USING COMPRESSION dict_fsst,            -- the page layout recognised, when any
    rejection_reason VARCHAR USING COMPRESSION dict_fsst,            -- why it is not an article (NULL for articles)
    parser_version   VARCHAR USING COMPRESSION dict_fsst NOT NULL    -- kbharvest.parse.PARSER_VERSION that made this row
);

-- One row per capture that is an article: the scalar fields of the record.
CREATE TABLE IF NOT EXISTS articles (
    capture_id          VARCHAR USING COMPRESSION uncompressed NOT NULL, -- captures.capture_id
    kb_id               BIGINT NOT NULL,
    language            VARCHAR USING COMPRESSION dict_fsst,
    title               VARCHAR USING COMPRESSION zstd,
    template            VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    last_review         DATE,
    revision            VARCHAR USING COMPRESSION dict_fsst,
    symptoms            VARCHAR USING COMPRESSION zstd,
    cause               VARCHAR USING COMPRESSION zstd,
    resolution          VARCHAR USING COMPRESSION zstd,
    workaround          VARCHAR USING COMPRESSION zstd,
    status              VARCHAR USING COMPRESSION zstd,
    more_information    VARCHAR USING COMPRESSION zstd,
    restart_requirement VARCHAR USING COMPRESSION dict_fsst,            -- required / not_required / may_be_required / unknown
    restart_text        VARCHAR USING COMPRESSION zstd,
    replacement_text    VARCHAR USING COMPRESSION zstd,                  -- NOT NULL when the page has replacement information
    warnings            VARCHAR[],
    content_hash        VARCHAR USING COMPRESSION uncompressed NOT NULL  -- md5 of title, sections and file tables: changes with the content
);

-- Every heading of every article, in page order (ordinal from 1).
CREATE TABLE IF NOT EXISTS sections (
    capture_id VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id      BIGINT NOT NULL,
    ordinal    INTEGER NOT NULL,
    kind       VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    level      INTEGER NOT NULL,
    heading    VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    text       VARCHAR USING COMPRESSION zstd NOT NULL
);

-- Hotfix prerequisites, one row per article that states them.
CREATE TABLE IF NOT EXISTS prerequisites (
    capture_id   VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id        BIGINT NOT NULL,
    text         VARCHAR USING COMPRESSION zstd NOT NULL,
    requirements VARCHAR[] NOT NULL,
    kb_refs      BIGINT[] NOT NULL
);

-- File-information tables (also those whose rows the page lost: rows_missing).
CREATE TABLE IF NOT EXISTS file_tables (
    capture_id   VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id        BIGINT NOT NULL,
    table_no     INTEGER NOT NULL,
    caption      VARCHAR USING COMPRESSION dict_fsst,
    architecture VARCHAR USING COMPRESSION dict_fsst,
    rows_missing BOOLEAN NOT NULL,
    row_count    INTEGER NOT NULL
);

-- One row per file shipped: the rows of the file-information tables.
CREATE TABLE IF NOT EXISTS file_rows (
    capture_id     VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id          BIGINT NOT NULL,
    table_no       INTEGER NOT NULL,
    row_no         INTEGER NOT NULL,
    caption        VARCHAR USING COMPRESSION dict_fsst, -- the table's caption
    architecture   VARCHAR USING COMPRESSION dict_fsst, -- the table's architecture
    file_name      VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    file_version   VARCHAR,                              -- as printed
    version_key    BIGINT[],                             -- the numbers of file_version: sorts and compares as a version
    file_size      BIGINT,
    date           DATE,
    time           VARCHAR USING COMPRESSION dict_fsst,
    platform       VARCHAR USING COMPRESSION dict_fsst,
    sp_requirement VARCHAR USING COMPRESSION dict_fsst, -- the "SP requirement" column, when the table has one
    service_branch VARCHAR USING COMPRESSION dict_fsst, -- the "Service branch" column, when the table has one
    extra          MAP(VARCHAR, VARCHAR)                 -- every other column, keyed by its header (the two above included)
);

-- Edges: article -> every other KB article it refers to.
CREATE TABLE IF NOT EXISTS kb_refs (
    capture_id VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id      BIGINT NOT NULL,
    ref_kb_id  BIGINT NOT NULL
);

-- Edges: hotfix -> the earlier hotfixes it supersedes.
CREATE TABLE IF NOT EXISTS replacements (
    capture_id     VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id          BIGINT NOT NULL,
    ordinal        INTEGER NOT NULL,
    replaces_kb_id BIGINT NOT NULL
);

-- Products from the "Applies to" list.
CREATE TABLE IF NOT EXISTS applies_to (
    capture_id VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id      BIGINT NOT NULL,
    ordinal    INTEGER NOT NULL,
    product    VARCHAR USING COMPRESSION dict_fsst NOT NULL
);

-- KB keywords (kbfix, kbqfe …).
CREATE TABLE IF NOT EXISTS keywords (
    capture_id VARCHAR USING COMPRESSION dict_fsst NOT NULL,
    kb_id      BIGINT NOT NULL,
    ordinal    INTEGER NOT NULL,
    keyword    VARCHAR USING COMPRESSION dict_fsst NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS captures_capture_id ON captures (capture_id);

CREATE INDEX IF NOT EXISTS articles_kb_id ON articles (kb_id);

CREATE INDEX IF NOT EXISTS file_rows_file_name ON file_rows (file_name);

-- One row per (kb_id, language): the article from its newest capture.
CREATE OR REPLACE VIEW latest_articles AS
SELECT a.*, c.url, c.archive, c.served_ts, c.captured_at,
       count(*) OVER (PARTITION BY a.kb_id, a.language) AS captures
FROM articles a JOIN captures c USING (capture_id)
QUALIFY row_number() OVER (
    PARTITION BY a.kb_id, a.language
    ORDER BY c.captured_at DESC NULLS LAST, a.last_review DESC NULLS LAST, a.capture_id DESC) = 1;

-- Every capture of every article, oldest first, with what changed since the previous one
-- (the *_changed columns are NULL for the first capture).
CREATE OR REPLACE VIEW article_history AS
SELECT a.kb_id, a.language,
       row_number() OVER w AS capture_no,
       c.captured_at, c.served_ts, c.url, c.archive, a.capture_id,
       a.title, a.last_review, a.revision, a.content_hash,
       lag(a.last_review) OVER w AS previous_last_review,
       lag(a.revision) OVER w AS previous_revision,
       CASE WHEN row_number() OVER w > 1
            THEN a.last_review IS DISTINCT FROM lag(a.last_review) OVER w END AS last_review_changed,
       CASE WHEN row_number() OVER w > 1
            THEN a.revision IS DISTINCT FROM lag(a.revision) OVER w END AS revision_changed,
       CASE WHEN row_number() OVER w > 1
            THEN a.content_hash IS DISTINCT FROM lag(a.content_hash) OVER w END AS content_changed
FROM articles a JOIN captures c USING (capture_id)
WINDOW w AS (PARTITION BY a.kb_id, a.language
             ORDER BY c.captured_at ASC NULLS FIRST, a.last_review ASC NULLS FIRST, a.capture_id);

-- Symptom -> cause -> resolution, from the newest capture of each article and language that
-- has at least one of the three.
CREATE OR REPLACE VIEW triples AS
SELECT kb_id, language, title, symptoms, cause, resolution, capture_id, url, served_ts
FROM latest_articles
WHERE symptoms IS NOT NULL OR cause IS NOT NULL OR resolution IS NOT NULL;

-- Every distinct file row each article shipped, across all its captures and languages, with
-- its article's title and the newest capture that shows it.
CREATE OR REPLACE VIEW files AS
SELECT f.kb_id, f.file_name, f.file_version, f.version_key, f.file_size, f.date, f.time,
       f.platform, f.architecture, f.sp_requirement, f.service_branch,
       arg_max(a.title, coalesce(c.captured_at, TIMESTAMP '1970-01-01')) AS title,
       arg_max(f.caption, coalesce(c.captured_at, TIMESTAMP '1970-01-01')) AS caption,
       arg_max(f.capture_id, coalesce(c.captured_at, TIMESTAMP '1970-01-01')) AS capture_id,
       count(DISTINCT f.capture_id) AS seen_in_captures,
       min(c.captured_at) AS first_seen,
       max(c.captured_at) AS last_seen
FROM file_rows f JOIN articles a USING (capture_id) JOIN captures c USING (capture_id)
GROUP BY f.kb_id, f.file_name, f.file_version, f.version_key, f.file_size, f.date, f.time,
         f.platform, f.architecture, f.sp_requirement, f.service_branch;
