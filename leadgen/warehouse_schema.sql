-- The results database: every run's rows, keyed by run_name.

CREATE TABLE IF NOT EXISTS runs (
    run_name        VARCHAR PRIMARY KEY,
    run_dir         VARCHAR,
    config_path     VARCHAR,
    config_hash     VARCHAR,
    model           VARCHAR,
    status          VARCHAR,
    regions         INTEGER,
    regions_done    INTEGER,
    candidates      INTEGER,
    companies       INTEGER,
    updated_at      TIMESTAMP
);

CREATE TABLE IF NOT EXISTS region_results (
    run_name          VARCHAR,
    region            VARCHAR,
    slug              VARCHAR,
    status            VARCHAR,
    attempts          INTEGER,
    seconds           DOUBLE,
    companies         INTEGER,
    requests          BIGINT,
    input_tokens      BIGINT,
    cached_tokens     BIGINT,
    output_tokens     BIGINT,
    reasoning_tokens  BIGINT,
    total_tokens      BIGINT,
    search_calls      BIGINT,
    cost_usd          DOUBLE,
    search_exhausted  BOOLEAN,
    quality_notes     VARCHAR,
    error_type        VARCHAR,
    error             VARCHAR
);

CREATE TABLE IF NOT EXISTS candidates (
    run_name           VARCHAR,
    candidate_id       VARCHAR,
    region             VARCHAR,
    discovery_source   VARCHAR,
    rank               INTEGER,
    name               VARCHAR,
    website            VARCHAR,
    phone              VARCHAR,
    street_address     VARCHAR,
    city               VARCHAR,
    state              VARCHAR,
    postal_code        VARCHAR,
    source_url         VARCHAR,
    meets_criteria     BOOLEAN,
    criteria_evidence  VARCHAR,
    drop_reason        VARCHAR,
    name_norm          VARCHAR,
    domain             VARCHAR,
    host               VARCHAR,
    phone_e164         VARCHAR,
    phone_ext          VARCHAR,
    company_id         VARCHAR
);

CREATE TABLE IF NOT EXISTS companies (
    run_name           VARCHAR,
    company_id         VARCHAR,
    name               VARCHAR,
    website            VARCHAR,
    domain             VARCHAR,
    phone              VARCHAR,
    street_address     VARCHAR,
    city               VARCHAR,
    state              VARCHAR,
    postal_code        VARCHAR,
    meets_criteria     BOOLEAN,
    regions            VARCHAR[],
    region_count       INTEGER,
    discovery_sources  VARCHAR[],
    candidate_count    INTEGER,
    best_rank          INTEGER,
    source_urls        VARCHAR[],
    match_reasons      VARCHAR[]
);

-- Distinct companies each region found (valid rows only).
CREATE OR REPLACE VIEW region_companies AS
SELECT DISTINCT run_name, region, company_id
FROM candidates
WHERE drop_reason IS NULL;

CREATE OR REPLACE VIEW region_quality AS
WITH counted AS (
    SELECT
        run_name,
        region,
        count(*) AS candidates,
        count(*) FILTER (WHERE drop_reason IS NULL) AS valid,
        count(*) FILTER (
            WHERE drop_reason IS NOT NULL AND drop_reason <> 'duplicate_in_region'
        ) AS dropped,
        count(*) FILTER (WHERE drop_reason = 'duplicate_in_region')
            AS duplicates_in_region
    FROM candidates
    GROUP BY run_name, region
),
reasons AS (
    SELECT run_name, region,
           string_agg(drop_reason || ': ' || n, ', ' ORDER BY drop_reason)
               AS drop_reasons
    FROM (
        SELECT run_name, region, drop_reason, count(*) AS n
        FROM candidates
        WHERE drop_reason IS NOT NULL AND drop_reason <> 'duplicate_in_region'
        GROUP BY run_name, region, drop_reason
    )
    GROUP BY run_name, region
),
found AS (
    SELECT rc.run_name, rc.region,
           count(*) AS companies,
           count(*) FILTER (WHERE c.region_count = 1) AS unique_companies,
           count(*) FILTER (WHERE c.region_count > 1) AS shared_companies
    FROM region_companies rc
    JOIN companies c USING (run_name, company_id)
    GROUP BY rc.run_name, rc.region
),
totals AS (
    SELECT run_name, count(*) AS total FROM companies GROUP BY run_name
)
SELECT
    r.run_name,
    r.region,
    r.status,
    r.attempts,
    r.seconds,
    coalesce(k.candidates, 0) AS candidates,
    coalesce(k.valid, 0) AS valid,
    coalesce(k.dropped, 0) AS dropped,
    reasons.drop_reasons,
    coalesce(k.duplicates_in_region, 0) AS duplicates_in_region,
    coalesce(f.companies, 0) AS companies,
    coalesce(f.unique_companies, 0) AS unique_companies,
    coalesce(f.shared_companies, 0) AS shared_companies,
    round(coalesce(f.companies, 0) / nullif(t.total, 0), 3) AS share_of_final,
    r.total_tokens AS tokens,
    r.cost_usd,
    round(r.total_tokens / nullif(f.unique_companies, 0), 1)
        AS tokens_per_unique_company,
    round(r.cost_usd / nullif(f.unique_companies, 0), 4)
        AS cost_per_unique_company
FROM region_results r
LEFT JOIN counted k USING (run_name, region)
LEFT JOIN reasons USING (run_name, region)
LEFT JOIN found f USING (run_name, region)
LEFT JOIN totals t USING (run_name);

CREATE OR REPLACE VIEW region_overlap AS
SELECT a.run_name, a.region AS region_a, b.region AS region_b,
       count(*) AS shared_companies
FROM region_companies a
JOIN region_companies b
  ON a.run_name = b.run_name AND a.company_id = b.company_id AND a.region < b.region
GROUP BY a.run_name, a.region, b.region;
