{#- One row per connection (deleted ones included): how often it breaks and how fast it
    recovers, from fivetran_meta__incidents, with its uptime from
    fivetran_meta__connection_uptime and its open incident, if any.

    incidents_30d: incidents that started in the 30 days before build time (UTC).
    mttr_minutes: mean duration of its closed incidents (all it has).
    mtbf_minutes: mean time between failures = minutes it was not in an incident over
    its history (first observation to deletion or build time) divided by its incidents;
    null without incidents. Rollups per service and per destination:
    fivetran_meta__reliability_rollup. -#}

with incidents as (
    select * from {{ ref('fivetran_meta__incidents') }}
),

spans as (
    select
        connection_id,
        min(first_observed_at) as first_observed_at,
        max(deleted_at) as deleted_at
    from {{ ref('fivetran_meta__connection_observations') }}
    group by connection_id
),

counts as (
    select
        i.connection_id,
        count(*) as incidents_total,
        sum(
            case when i.started_at >= {{ fivetran_meta.dateadd('day', -30, 'i.judged_at') }} then 1 else 0 end
        ) as incidents_30d,
        sum(case when i.is_open then 0 else 1 end) as closed_incidents,
        avg(case when not i.is_open then cast(i.duration_minutes as {{ fivetran_meta.type_double() }}) end)
            as mttr_minutes,
        sum(i.duration_minutes) as minutes_in_incidents,
        max(i.started_at) as last_incident_started_at,
        max(i.ended_at) as last_incident_ended_at
    from incidents as i
    group by i.connection_id
),

open_incidents as (
    select
        i.*,
        row_number() over (partition by i.connection_id order by i.started_at desc) as recency
    from incidents as i
    where i.is_open
),

history as (
    select
        c.connection_id,
        {{ fivetran_meta.datediff(
            's.first_observed_at',
            'coalesce(s.deleted_at, ' ~ fivetran_meta.utc_now() ~ ')',
            'minute'
        ) }} as minutes_observed
    from {{ ref('fivetran_meta__connection_status') }} as c
    left join spans as s on s.connection_id = c.connection_id
)

select
    c.connection_id,
    c.connection_name,
    c.service,
    c.destination_id,
    c.group_name,
    c.account_id,
    c.health,
    c.is_at_risk,
    coalesce(n.incidents_30d, 0) as incidents_30d,
    coalesce(n.incidents_total, 0) as incidents_total,
    coalesce(n.closed_incidents, 0) as closed_incidents,
    n.mttr_minutes,
    case
        when n.incidents_total > 0 and h.minutes_observed is not null
        then cast(h.minutes_observed - n.minutes_in_incidents as {{ fivetran_meta.type_double() }})
            / n.incidents_total
    end as mtbf_minutes,
    h.minutes_observed,
    coalesce(n.minutes_in_incidents, 0) as minutes_in_incidents,
    n.last_incident_started_at,
    n.last_incident_ended_at,
    u.uptime_7d,
    u.uptime_30d,
    u.hours_up_7d,
    u.hours_counted_7d,
    u.hours_up_30d,
    u.hours_counted_30d,
    o.incident_id is not null as has_open_incident,
    o.incident_id as open_incident_id,
    o.started_at as open_incident_started_at,
    o.worst_health as open_incident_worst_health,
    o.cause_codes as open_incident_cause_codes,
    o.cause_messages as open_incident_cause_messages,
    o.duration_minutes as open_incident_minutes
from {{ ref('fivetran_meta__connection_status') }} as c
left join counts as n on n.connection_id = c.connection_id
left join history as h on h.connection_id = c.connection_id
left join {{ ref('fivetran_meta__connection_uptime') }} as u on u.connection_id = c.connection_id
left join open_incidents as o on o.connection_id = c.connection_id and o.recency = 1
