{#- Per connection and UTC day, from its first observation to today (to its deletion day
    for a deleted connection): hours in each health value, built from
    fivetran_meta__connection_observations (a snapshot holds until the next observation,
    for at most var fivetran_meta_observation_horizon_hours). Time no observation covers
    is hours_unobserved: neither up nor down. main_health is the value with the most
    hours (null on a day nothing covers), last_health the latest one seen that day.
    up_share = hours in var fivetran_meta_up_health / hours_counted, where hours_counted
    leaves out var fivetran_meta_uptime_ignored_health (paused). -#}
{%- set healths = fivetran_meta.health_values_with_hours() -%}
{%- set up = fivetran_meta.sql_list(var('fivetran_meta_up_health')) -%}
{%- set ignored = fivetran_meta.sql_list(var('fivetran_meta_uptime_ignored_health')) -%}

with observations as (
    select * from {{ ref('fivetran_meta__connection_observations') }}
),

lives as (
    select
        connection_id,
        min(first_observed_at) as first_observed_at,
        max(deleted_at) as deleted_at,
        {{ fivetran_meta.utc_now() }} as built_at
    from observations
    group by connection_id
),

bounds as (
    select
        min(cast(first_observed_at as date)) as first_day,
        max(cast(coalesce(deleted_at, built_at) as date)) as last_day
    from lives
),

calendar as (
    select cast({{ fivetran_meta.dateadd('day', 'n.n', 'b.first_day') }} as date) as day
    from ({{ fivetran_meta.integers(4) }}) as n
    cross join bounds as b
    where n.n <= {{ fivetran_meta.datediff('b.first_day', 'b.last_day', 'day') }}
),

days as (
    select
        l.connection_id,
        c.day,
        cast(c.day as {{ dbt.type_timestamp() }}) as day_start,
        {{ fivetran_meta.dateadd('day', 1, 'cast(c.day as ' ~ dbt.type_timestamp() ~ ')') }} as day_end,
        l.first_observed_at,
        l.deleted_at,
        l.built_at
    from lives as l
    inner join calendar as c
        on c.day >= cast(l.first_observed_at as date)
        and c.day <= cast(coalesce(l.deleted_at, l.built_at) as date)
),

pieces as (
    select
        d.connection_id,
        d.day,
        o.health,
        case when o.observed_at > d.day_start then o.observed_at else d.day_start end as piece_from,
        {{ fivetran_meta.hours_between(
            'case when o.observed_at > d.day_start then o.observed_at else d.day_start end',
            'case when o.valid_to < d.day_end then o.valid_to else d.day_end end'
        ) }} as hours
    from observations as o
    inner join days as d
        on d.connection_id = o.connection_id
        and o.observed_at < d.day_end
        and o.valid_to > d.day_start
    -- Every observation also counts as seen on its day (with no hours of its own: a
    -- deleted point, or one made at build time).
    union all
    select d.connection_id, d.day, o.health, o.observed_at, 0.0
    from observations as o
    inner join days as d
        on d.connection_id = o.connection_id
        and o.observed_at >= d.day_start
        and o.observed_at < d.day_end
),

per_health as (
    select
        connection_id,
        day,
        health,
        sum(hours) as hours,
        row_number() over (
            partition by connection_id, day order by sum(hours) desc, max(piece_from) desc
        ) as rank_in_day,
        row_number() over (
            partition by connection_id, day order by max(piece_from) desc, sum(hours) asc
        ) as recency_in_day
    from pieces
    group by connection_id, day, health
),

per_day as (
    select
        connection_id,
        day,
        max(case when rank_in_day = 1 and hours > 0 then health end) as main_health,
        max(case when recency_in_day = 1 then health end) as last_health,
        count(*) as health_values_seen,
        sum(hours) as hours_observed,
        {%- for health in healths %}
        sum(case when health = '{{ health }}' then hours else 0 end) as hours_{{ health }},
        {%- endfor %}
        sum(case when health in {{ up }} then hours else 0 end) as hours_up,
        sum(case when health not in {{ ignored }} then hours else 0 end) as hours_counted
    from per_health
    group by connection_id, day
),

spans as (
    select
        d.*,
        {{ fivetran_meta.hours_between(
            'case when d.first_observed_at > d.day_start then d.first_observed_at else d.day_start end',
            'least(d.day_end, d.built_at, coalesce(d.deleted_at, d.day_end))'
        ) }} as hours_in_life
    from days as d
)

select
    s.connection_id,
    s.day,
    p.main_health,
    p.last_health,
    coalesce(p.health_values_seen, 0) as health_values_seen,
    coalesce(p.hours_observed, 0) as hours_observed,
    case
        when s.hours_in_life - coalesce(p.hours_observed, 0) > 0
        then s.hours_in_life - coalesce(p.hours_observed, 0)
        else 0
    end as hours_unobserved,
    {%- for health in healths %}
    coalesce(p.hours_{{ health }}, 0) as hours_{{ health }},
    {%- endfor %}
    coalesce(p.hours_up, 0) as hours_up,
    coalesce(p.hours_counted, 0) as hours_counted,
    case when p.hours_counted > 0 then p.hours_up / p.hours_counted end as up_share
from spans as s
left join per_day as p on p.connection_id = s.connection_id and p.day = s.day
