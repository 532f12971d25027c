{#- One row per connection and observation: each time the tap saw the connection, the
    health in force, and how long that snapshot counts for.

    Observation points of a connection: every connection_status_history row (the tap
    writes one when the status changes; its observed_at is the run that saw it), every
    tap run that read a complete, unfiltered connections listing (tap_runs with
    connections_listing_complete) from its first row until the last run that listed it,
    and that last listing itself (connections.observed_at). At a point without a history
    row, the status is the latest row before it (unchanged).

    A snapshot holds until the next point, for at most var
    fivetran_meta_observation_horizon_hours (12), and never beyond build time: the rest is
    unobserved. A deleted connection (a history row with health 'deleted', a complete run
    after its last listing, or a row the loader flagged deleted) gets a 'deleted' point
    holding no time, and no point after it. -#}
{%- set horizon = var('fivetran_meta_observation_horizon_hours') -%}
{%- set connections_relation = source('fivetran_meta', 'connections') -%}

with history as (
    select connection_id, account_id, change_id, observed_at, health
    from {{ fivetran_meta.deduped_source('connection_status_history', ['connection_id', 'change_id'], 'observed_at') }} as h
),

connections as (
    select
        c.id as connection_id,
        c.account_id,
        c.observed_at as last_listed_at,
        {{ fivetran_meta.flagged_deleted(connections_relation, 'c') }} as is_flagged_deleted
    from {{ fivetran_meta.deduped_source('connections', ['id'], 'observed_at') }} as c
),

complete_runs as (
    select account_id, started_at
    from {{ fivetran_meta.deduped_source('tap_runs', ['run_id'], 'ended_at') }} as r
    where r.connections_listing_complete
),

spans as (
    select
        h.connection_id,
        max(h.account_id) as account_id,
        min(h.observed_at) as first_observed_at,
        min(case when h.health = 'deleted' then h.observed_at end) as deleted_row_at
    from history as h
    group by h.connection_id
),

listed as (
    select
        s.connection_id,
        coalesce(c.account_id, s.account_id) as account_id,
        s.first_observed_at,
        s.deleted_row_at,
        coalesce(c.last_listed_at, s.first_observed_at) as last_listed_at,
        coalesce(c.is_flagged_deleted, false) as is_flagged_deleted
    from spans as s
    left join connections as c on c.connection_id = s.connection_id
),

-- The first complete run of the account after the connection's last listing: it did
-- not list the connection, so the connection was gone.
missed as (
    select l.connection_id, min(r.started_at) as missed_at
    from listed as l
    inner join complete_runs as r
        on r.account_id = l.account_id and r.started_at > l.last_listed_at
    group by l.connection_id
),

lifecycle as (
    select
        l.connection_id,
        l.account_id,
        l.first_observed_at,
        l.last_listed_at,
        l.deleted_row_at,
        coalesce(
            l.deleted_row_at,
            m.missed_at,
            case when l.is_flagged_deleted then l.last_listed_at end
        ) as deleted_at
    from listed as l
    left join missed as m on m.connection_id = l.connection_id
),

points as (
    select h.connection_id, h.observed_at, h.health, h.change_id, 1 as is_status_change
    from history as h
    inner join lifecycle as l on l.connection_id = h.connection_id
    where l.deleted_at is null or h.observed_at <= l.deleted_at
    union all
    select l.connection_id, r.started_at, cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}), 0
    from lifecycle as l
    inner join complete_runs as r
        on r.account_id = l.account_id
        and r.started_at > l.first_observed_at
        and r.started_at <= l.last_listed_at
    where l.deleted_at is null or r.started_at < l.deleted_at
    union all
    select l.connection_id, l.last_listed_at, cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}), 0
    from lifecycle as l
    where l.last_listed_at > l.first_observed_at
        and (l.deleted_at is null or l.last_listed_at < l.deleted_at)
    union all
    select l.connection_id, l.deleted_at, 'deleted', cast(null as {{ dbt.type_string() }}), 1
    from lifecycle as l
    where l.deleted_at is not null and l.deleted_row_at is null
),

-- Each point takes the status of the latest change at or before it: a running count of
-- changes numbers the stretches, and each stretch has exactly one change row.
stretches as (
    select
        p.*,
        sum(p.is_status_change) over (
            partition by p.connection_id
            order by p.observed_at, p.is_status_change desc
            rows between unbounded preceding and current row
        ) as stretch,
        row_number() over (
            partition by p.connection_id, p.observed_at order by p.is_status_change desc
        ) as copy_at_time
    from points as p
),

in_force as (
    select
        connection_id,
        observed_at,
        is_status_change,
        copy_at_time,
        max(health) over (partition by connection_id, stretch) as health,
        max(change_id) over (partition by connection_id, stretch) as change_id
    from stretches
),

timed as (
    select
        i.connection_id,
        i.observed_at,
        i.health,
        i.change_id,
        i.is_status_change = 1 as is_status_change,
        lead(i.observed_at) over (partition by i.connection_id order by i.observed_at) as next_observed_at
    from in_force as i
    where i.copy_at_time = 1
),

bounded as (
    select
        t.*,
        {{ fivetran_meta.utc_now() }} as built_at,
        {{ fivetran_meta.dateadd('hour', horizon, 't.observed_at') }} as horizon_end
    from timed as t
)

select
    b.connection_id,
    l.account_id,
    b.observed_at,
    b.health,
    b.change_id,
    b.is_status_change,
    b.next_observed_at,
    b.next_observed_at is null as is_latest,
    case
        when b.health = 'deleted' or b.built_at <= b.observed_at then b.observed_at
        else least(coalesce(b.next_observed_at, b.built_at), b.horizon_end, b.built_at)
    end as valid_to,
    l.first_observed_at,
    l.last_listed_at,
    l.deleted_at
from bounded as b
inner join lifecycle as l on l.connection_id = b.connection_id
