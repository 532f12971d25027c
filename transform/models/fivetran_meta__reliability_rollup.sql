{#- fivetran_meta__connection_reliability rolled up per service (connector type) and per
    destination: one model with a `grain` column ('service' or 'destination'), so both
    rollups share one shape and a chart filters on grain.

    mttr_minutes: mean duration of the closed incidents of all its connections (each
    incident weighs alike); mtbf_minutes: minutes not in an incident over all its
    connections' histories divided by their incidents; uptime_7d / uptime_30d: hour-weighted
    over its connections (hours up / hours counted). -#}

with reliability as (
    select * from {{ ref('fivetran_meta__connection_reliability') }}
),

incidents as (
    select
        i.*,
        c.service as connection_service,
        c.destination_id as connection_destination_id
    from {{ ref('fivetran_meta__incidents') }} as i
    inner join reliability as c on c.connection_id = i.connection_id
),

grains as (
    select
        'service' as grain,
        service as grain_id,
        max(service) as grain_name,
        count(*) as connections,
        sum(case when has_open_incident then 1 else 0 end) as connections_with_open_incident,
        sum(incidents_30d) as incidents_30d,
        sum(incidents_total) as incidents_total,
        sum(closed_incidents) as closed_incidents,
        sum(minutes_observed) as minutes_observed,
        sum(minutes_in_incidents) as minutes_in_incidents,
        sum(hours_up_7d) as hours_up_7d,
        sum(hours_counted_7d) as hours_counted_7d,
        sum(hours_up_30d) as hours_up_30d,
        sum(hours_counted_30d) as hours_counted_30d
    from reliability
    group by service
    union all
    select
        'destination',
        destination_id,
        max(group_name),
        count(*),
        sum(case when has_open_incident then 1 else 0 end),
        sum(incidents_30d),
        sum(incidents_total),
        sum(closed_incidents),
        sum(minutes_observed),
        sum(minutes_in_incidents),
        sum(hours_up_7d),
        sum(hours_counted_7d),
        sum(hours_up_30d),
        sum(hours_counted_30d)
    from reliability
    group by destination_id
),

recoveries as (
    select
        'service' as grain,
        connection_service as grain_id,
        avg(cast(duration_minutes as {{ fivetran_meta.type_double() }})) as mttr_minutes
    from incidents
    where not is_open
    group by connection_service
    union all
    select
        'destination',
        connection_destination_id,
        avg(cast(duration_minutes as {{ fivetran_meta.type_double() }}))
    from incidents
    where not is_open
    group by connection_destination_id
)

select
    g.grain,
    g.grain_id,
    g.grain_name,
    g.connections,
    g.connections_with_open_incident,
    g.incidents_30d,
    g.incidents_total,
    g.closed_incidents,
    r.mttr_minutes,
    case
        when g.incidents_total > 0 and g.minutes_observed is not null
        then cast(g.minutes_observed - g.minutes_in_incidents as {{ fivetran_meta.type_double() }})
            / g.incidents_total
    end as mtbf_minutes,
    case when g.hours_counted_7d > 0 then g.hours_up_7d / g.hours_counted_7d end as uptime_7d,
    case when g.hours_counted_30d > 0 then g.hours_up_30d / g.hours_counted_30d end as uptime_30d,
    g.hours_up_7d,
    g.hours_counted_7d,
    g.hours_up_30d,
    g.hours_counted_30d
from grains as g
left join recoveries as r
    on r.grain = g.grain
    and (r.grain_id = g.grain_id or (r.grain_id is null and g.grain_id is null))
