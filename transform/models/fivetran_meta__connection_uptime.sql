{#- Per connection: uptime over the 7 and 30 days before build time, weighted by hours.
    From fivetran_meta__connection_observations: hours_counted_* are the observed hours in
    the window minus those in var fivetran_meta_uptime_ignored_health (paused), hours_up_*
    those in var fivetran_meta_up_health (healthy, syncing); uptime_* = up / counted, null
    when nothing is counted (never observed in the window, or paused throughout).
    Unobserved time (between runs beyond the horizon, before the first observation, after
    deletion) is neither up nor down. -#}
{%- set up = fivetran_meta.sql_list(var('fivetran_meta_up_health')) -%}
{%- set ignored = fivetran_meta.sql_list(var('fivetran_meta_uptime_ignored_health')) -%}

with connections as (
    select distinct connection_id
    from (
        select c.id as connection_id
        from {{ fivetran_meta.deduped_source('connections', ['id'], 'observed_at') }} as c
        union all
        select connection_id from {{ ref('fivetran_meta__connection_observations') }}
    ) as known
),

observations as (
    select
        o.*,
        {{ fivetran_meta.dateadd('day', -7, fivetran_meta.utc_now()) }} as from_7d,
        {{ fivetran_meta.dateadd('day', -30, fivetran_meta.utc_now()) }} as from_30d
    from {{ ref('fivetran_meta__connection_observations') }} as o
    where o.valid_to > o.observed_at
),

clipped as (
    select
        connection_id,
        health,
        case
            when valid_to > from_7d
            then {{ fivetran_meta.hours_between(
                'case when observed_at > from_7d then observed_at else from_7d end', 'valid_to'
            ) }}
            else 0
        end as hours_7d,
        case
            when valid_to > from_30d
            then {{ fivetran_meta.hours_between(
                'case when observed_at > from_30d then observed_at else from_30d end', 'valid_to'
            ) }}
            else 0
        end as hours_30d
    from observations
),

sums as (
    select
        connection_id,
        sum(case when health in {{ up }} then hours_7d else 0 end) as hours_up_7d,
        sum(case when health not in {{ ignored }} then hours_7d else 0 end) as hours_counted_7d,
        sum(case when health in {{ up }} then hours_30d else 0 end) as hours_up_30d,
        sum(case when health not in {{ ignored }} then hours_30d else 0 end) as hours_counted_30d
    from clipped
    group by connection_id
)

select
    c.connection_id,
    case when s.hours_counted_7d > 0 then s.hours_up_7d / s.hours_counted_7d end as uptime_7d,
    case when s.hours_counted_30d > 0 then s.hours_up_30d / s.hours_counted_30d end as uptime_30d,
    coalesce(s.hours_up_7d, 0) as hours_up_7d,
    coalesce(s.hours_counted_7d, 0) as hours_counted_7d,
    coalesce(s.hours_up_30d, 0) as hours_up_30d,
    coalesce(s.hours_counted_30d, 0) as hours_counted_30d
from connections as c
left join sums as s on s.connection_id = c.connection_id
