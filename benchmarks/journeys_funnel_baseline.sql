-- The browse-to-buy funnel by hand, as an analyst writes it in DuckDB: customer scope,
-- page_view -> product_view -> add_to_cart -> checkout_start -> purchase, every step within
-- 4 days of the entry (bound included) and 1 day of the previous step, every page view an
-- attempt, each journey counted once by its attempt that got furthest (the earliest of
-- those), split by the channel of that attempt's entry. One grouped join per step over the
-- funnel's events only; a state is an attempt and the event reached (every event that fits,
-- so that no greedy choice loses a conversion).
WITH e AS (
    SELECT
        journey_id AS u,
        channel,
        touchpoint,
        CAST(epoch(occurred_at) AS BIGINT) AS ts,
        -- time, then step order within a second, then timeline order: one number per row
        -- (no sort); 7 = steps + 2, 2^32 leaves room for seq.
        (CAST(epoch(occurred_at) AS BIGINT) * 7
            + CASE touchpoint WHEN 'page_view' THEN 1 WHEN 'product_view' THEN 2
                WHEN 'add_to_cart' THEN 3 WHEN 'checkout_start' THEN 4 ELSE 5 END
        )::HUGEINT * 4294967296 + seq AS pos
    FROM journey_timeline
    WHERE touchpoint IN ('page_view', 'product_view', 'add_to_cart', 'checkout_start', 'purchase')
),
s1 AS (SELECT u, pos AS a, ts AS t1, pos AS p, ts AS t, channel FROM e WHERE touchpoint = 'page_view'),
s2 AS (
    SELECT DISTINCT s.u, s.a, s.t1, e.pos AS p, e.ts AS t
    FROM s1 s JOIN e ON e.u = s.u AND e.touchpoint = 'product_view' AND e.pos > s.p
        AND e.ts - s.t1 <= 345600 AND e.ts - s.t <= 86400
),
s3 AS (
    SELECT DISTINCT s.u, s.a, s.t1, e.pos AS p, e.ts AS t
    FROM s2 s JOIN e ON e.u = s.u AND e.touchpoint = 'add_to_cart' AND e.pos > s.p
        AND e.ts - s.t1 <= 345600 AND e.ts - s.t <= 86400
),
s4 AS (
    SELECT DISTINCT s.u, s.a, s.t1, e.pos AS p, e.ts AS t
    FROM s3 s JOIN e ON e.u = s.u AND e.touchpoint = 'checkout_start' AND e.pos > s.p
        AND e.ts - s.t1 <= 345600 AND e.ts - s.t <= 86400
),
s5 AS (
    SELECT DISTINCT s.u, s.a
    FROM s4 s JOIN e ON e.u = s.u AND e.touchpoint = 'purchase' AND e.pos > s.p
        AND e.ts - s.t1 <= 345600 AND e.ts - s.t <= 86400
),
reached AS (
    -- per journey and step reached, its earliest attempt that reaches it
    SELECT u, min(a) AS a, 1 AS k FROM s1 GROUP BY u
    UNION ALL SELECT u, min(a), 2 FROM s2 GROUP BY u
    UNION ALL SELECT u, min(a), 3 FROM s3 GROUP BY u
    UNION ALL SELECT u, min(a), 4 FROM s4 GROUP BY u
    UNION ALL SELECT u, min(a), 5 FROM s5 GROUP BY u
),
best AS (SELECT u, max(k) AS k, arg_max(a, k) AS a FROM reached GROUP BY u),
counted AS (SELECT b.k, s1.channel FROM best b JOIN s1 ON s1.u = b.u AND s1.a = b.a)
SELECT
    coalesce(channel, 'all') AS channel,
    count(*) FILTER (WHERE k >= 1) AS reached_1,
    count(*) FILTER (WHERE k >= 2) AS reached_2,
    count(*) FILTER (WHERE k >= 3) AS reached_3,
    count(*) FILTER (WHERE k >= 4) AS reached_4,
    count(*) FILTER (WHERE k >= 5) AS reached_5
FROM counted
GROUP BY ROLLUP (channel)
ORDER BY channel
