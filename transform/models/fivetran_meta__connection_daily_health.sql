{#- Per connection and day (UTC): hours spent in each health value, reconstructed from
    connection_status_history. A status holds from the run that observed it until the
    run that observed the next one; the latest holds until the latest run of the tap
    (max connections.observed_at), not beyond: what happened since is unknown. Days
    before a connection's first observation are not reported. up_share is the share of
    the observed hours the connection was up: healthy, or syncing normally. main_health
    is the value with the most hours, last_health the one in force at the day's end (or
    at the latest run). -#}
{%- set healths = fivetran_meta.health_values() -%}

with statuses as (
    select
        connection_id,
        observed_at as valid_from,
        health,
        lead(observed_at) over (partition by connection_id order by observed_at) as next_at
    from {{ source('fivetran_meta', 'connection_status_history') }}
),

last_run as (
    select max(observed_at) as observed_at from {{ source('fivetran_meta', 'connections') }}
),

intervals as (
    select
        s.connection_id,
        s.health,
        s.valid_from,
        coalesce(s.next_at, greatest(r.observed_at, s.valid_from)) as valid_to
    from statuses as s
    cross join last_run as r
),

bounds as (
    select
        cast(min(valid_from) as date) as first_day,
        cast(max(valid_to) as date) as last_day
    from intervals
),

days as (
    select cast(g.day_start as date) as day
    from bounds as b
    cross join lateral generate_series(
        cast(b.first_day as timestamp), cast(b.last_day as timestamp), interval '1 day'
    ) as g(day_start)
),

pieces as (
    select
        i.connection_id,
        d.day,
        i.health,
        i.valid_from,
        {{ fivetran_meta.seconds_between(
            'greatest(i.valid_from, cast(d.day as timestamp))',
            "least(i.valid_to, cast(d.day as timestamp) + interval '1 day')"
        ) }} / 3600.0 as hours
    from intervals as i
    inner join days as d
        on cast(d.day as timestamp) < i.valid_to
        and cast(d.day as timestamp) + interval '1 day' > i.valid_from
),

-- A status observed exactly at the latest run has no length yet: it still counts as
-- the connection's health on that day (with 0 hours).
observed_points as (
    select i.connection_id, cast(i.valid_from as date) as day, i.health, i.valid_from, 0.0 as hours
    from intervals as i
    where i.valid_to = i.valid_from
),

all_pieces as (
    select * from pieces
    union all
    select * from observed_points
),

ranked as (
    select
        connection_id,
        day,
        health,
        sum(hours) as hours,
        max(valid_from) as last_from,
        row_number() over (
            partition by connection_id, day order by sum(hours) desc, max(valid_from) desc
        ) as rank_in_day,
        row_number() over (
            partition by connection_id, day order by max(valid_from) desc
        ) as recency_in_day
    from all_pieces
    group by connection_id, day, health
)

select
    connection_id,
    day,
    max(case when rank_in_day = 1 then health end) as main_health,
    max(case when recency_in_day = 1 then health end) as last_health,
    count(*) as health_values_seen,
    sum(hours) as hours_observed,
    {%- for health in healths %}
    sum(case when health = '{{ health }}' then hours else 0 end) as hours_{{ health }},
    {%- endfor %}
    case
        when sum(hours) > 0
        then sum(case when health in ('healthy', 'syncing') then hours else 0 end) / sum(hours)
    end as up_share
from ranked
group by connection_id, day
