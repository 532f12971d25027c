{#- One row per incident: a spell during which the tap observed a connection in one of the
    health values of var fivetran_meta_incident_health (default: deleted, broken,
    incomplete, blocked, failing, stale, delayed), from fivetran_meta__connection_observations.

    detected_at is the first observation of the spell. started_at is the earliest evidence:
    the end of the first failed sync (fivetran_meta__syncs) after the last observation
    before the spell and after the last successful sync before detected_at, else
    detected_at. The spell ends at the first observation in a health of var
    fivetran_meta_incident_recovered_health (healthy, paused: recovered_observed_at); a
    health in neither list (syncing, rescheduled, a historical sync…) neither opens nor
    ends one; ended_at is the end of the first successful sync after the
    spell's last unhealthy observation, when it comes before that, else
    recovered_observed_at. An incident without such an observation is open (ended_at null);
    a deleted connection's incident never closes. duration_minutes runs to ended_at, or to
    build time (UTC) while open.

    cause_codes / cause_messages: the tasks (first) and warnings of
    connection_status_issues on the status rows in force during the spell, latest message
    per code. failed_syncs: failed syncs that ended between started_at and ended_at (build
    time while open). dbt_sources_affected: the dbt sources of the project this connection
    feeds (fivetran_meta__dbt_source_health). -#}
{%- set unhealthy = fivetran_meta.incident_health_list() -%}
{%- set recovered = fivetran_meta.sql_list(var('fivetran_meta_incident_recovered_health')) -%}

with observations as (
    select
        o.connection_id,
        o.account_id,
        o.observed_at,
        o.health,
        o.change_id,
        case
            when o.health in {{ unhealthy }} then 1
            when o.health in {{ recovered }} then 0
        end as verdict
    from {{ ref('fivetran_meta__connection_observations') }} as o
),

-- A health in neither list (syncing, rescheduled, a historical sync …) carries the state
-- before it: a running count of verdicts groups each one with the neutral observations
-- after it.
carried as (
    select
        o.*,
        count(o.verdict) over (
            partition by o.connection_id
            order by o.observed_at
            rows between unbounded preceding and current row
        ) as verdict_group
    from observations as o
),

stated as (
    select
        c.*,
        coalesce(
            max(c.verdict) over (partition by c.connection_id, c.verdict_group), 0
        ) as is_unhealthy
    from carried as c
),

sequenced as (
    select
        o.*,
        lag(o.is_unhealthy) over (
            partition by o.connection_id order by o.observed_at
        ) as previous_is_unhealthy,
        lag(o.observed_at) over (
            partition by o.connection_id order by o.observed_at
        ) as previous_observed_at
    from stated as o
),

-- Spells: a running count of the unhealthy observations that follow a healthy one (or
-- none); every observation of one spell shares its number.
numbered as (
    select
        s.*,
        case when s.is_unhealthy = 1 and coalesce(s.previous_is_unhealthy, 0) = 0 then 1 else 0 end
            as opens_spell,
        sum(
            case when s.is_unhealthy = 1 and coalesce(s.previous_is_unhealthy, 0) = 0 then 1 else 0 end
        ) over (
            partition by s.connection_id
            order by s.observed_at
            rows between unbounded preceding and current row
        ) as spell
    from sequenced as s
),

unhealthy as (
    select
        n.*,
        row_number() over (
            partition by n.connection_id, n.spell order by n.observed_at
        ) as nth_in_spell
    from numbered as n
    where n.is_unhealthy = 1
),

spells as (
    select
        connection_id,
        spell,
        max(account_id) as account_id,
        min(observed_at) as detected_at,
        max(case when verdict = 1 then observed_at end) as last_unhealthy_observed_at,
        max(case when opens_spell = 1 then previous_observed_at end) as observed_before_at,
        max(case when nth_in_spell = 1 then health end) as first_health,
        min({{ fivetran_meta.incident_severity('health') }}) as worst_severity,
        sum(verdict) as unhealthy_observations
    from unhealthy
    group by connection_id, spell
),

recoveries as (
    select s.connection_id, s.spell, min(o.observed_at) as recovered_observed_at
    from spells as s
    inner join observations as o
        on o.connection_id = s.connection_id
        and o.observed_at > s.last_unhealthy_observed_at
        and o.verdict = 0
    group by s.connection_id, s.spell
),

syncs as (
    select connection_id, ended_at, outcome
    from {{ ref('fivetran_meta__syncs') }}
    where ended_at is not null and outcome in ('succeeded', 'failed')
),

last_success_before as (
    select s.connection_id, s.spell, max(y.ended_at) as succeeded_at
    from spells as s
    inner join syncs as y
        on y.connection_id = s.connection_id
        and y.outcome = 'succeeded'
        and y.ended_at <= s.detected_at
    group by s.connection_id, s.spell
),

-- The first failed sync of the failures that led to the spell: after the last
-- observation before it and after the last success before it.
first_failure as (
    select s.connection_id, s.spell, min(y.ended_at) as failed_at
    from spells as s
    left join last_success_before as ls
        on ls.connection_id = s.connection_id and ls.spell = s.spell
    inner join syncs as y
        on y.connection_id = s.connection_id
        and y.outcome = 'failed'
        and y.ended_at <= s.detected_at
        and (s.observed_before_at is null or y.ended_at > s.observed_before_at)
        and (ls.succeeded_at is null or y.ended_at > ls.succeeded_at)
    group by s.connection_id, s.spell
),

-- The first successful sync after the last unhealthy observation, before the
-- observation that saw the connection healthy again.
first_success_after as (
    select s.connection_id, s.spell, min(y.ended_at) as succeeded_at
    from spells as s
    inner join recoveries as r
        on r.connection_id = s.connection_id and r.spell = s.spell
    inner join syncs as y
        on y.connection_id = s.connection_id
        and y.outcome = 'succeeded'
        and y.ended_at > s.last_unhealthy_observed_at
        and y.ended_at <= r.recovered_observed_at
    group by s.connection_id, s.spell
),

timed as (
    select
        s.*,
        {{ fivetran_meta.incident_health_of_severity('s.worst_severity') }} as worst_health,
        case
            when f.failed_at is not null and f.failed_at < s.detected_at then f.failed_at
            else s.detected_at
        end as started_at,
        case
            when f.failed_at is not null and f.failed_at < s.detected_at then 'failed_sync'
            else 'observation'
        end as started_from,
        r.recovered_observed_at,
        coalesce(fs.succeeded_at, r.recovered_observed_at) as ended_at,
        {{ fivetran_meta.utc_now() }} as built_at
    from spells as s
    left join first_failure as f on f.connection_id = s.connection_id and f.spell = s.spell
    left join recoveries as r on r.connection_id = s.connection_id and r.spell = s.spell
    left join first_success_after as fs
        on fs.connection_id = s.connection_id and fs.spell = s.spell
),

issues as (
    select connection_id, change_id, kind, code, message
    from {{ fivetran_meta.deduped_source('connection_status_issues', ['connection_id', 'change_id', 'kind', 'code'], 'observed_at') }} as i
),

spell_issues as (
    select
        u.connection_id,
        u.spell,
        i.kind,
        i.code,
        i.message,
        row_number() over (
            partition by u.connection_id, u.spell, i.kind, i.code order by u.observed_at desc
        ) as recency
    from unhealthy as u
    inner join issues as i
        on i.connection_id = u.connection_id and i.change_id = u.change_id
),

causes as (
    select
        connection_id,
        spell,
        {{ dbt.listagg('code', "', '", 'order by kind, code') }} as cause_codes,
        {{ dbt.listagg("coalesce(message, code)", "' | '", 'order by kind, code') }} as cause_messages
    from spell_issues
    where recency = 1
    group by connection_id, spell
),

-- Apart from the lists: some warehouses (Redshift) take no other aggregate beside LISTAGG.
cause_counts as (
    select
        connection_id,
        spell,
        sum(case when kind = 'task' then 1 else 0 end) as task_count,
        sum(case when kind = 'warning' then 1 else 0 end) as warning_count
    from spell_issues
    where recency = 1
    group by connection_id, spell
),

failed_syncs as (
    select t.connection_id, t.spell, count(*) as failed_syncs
    from timed as t
    inner join syncs as y
        on y.connection_id = t.connection_id
        and y.outcome = 'failed'
        and y.ended_at >= t.started_at
        and y.ended_at <= coalesce(t.ended_at, t.built_at)
    group by t.connection_id, t.spell
),

sources_fed as (
    select connection_id, count(*) as dbt_sources_affected
    from {{ ref('fivetran_meta__dbt_source_health') }}
    where is_fed_by_fivetran
    group by connection_id
)

select
    {{ dbt.hash(dbt.concat([
        't.connection_id', "'|'", 'cast(t.detected_at as ' ~ dbt.type_string() ~ ')'
    ])) }} as incident_id,
    t.connection_id,
    c.connection_name,
    c.service,
    c.destination_id,
    c.group_name,
    coalesce(c.account_id, t.account_id) as account_id,
    t.started_at,
    t.started_from,
    t.detected_at,
    t.last_unhealthy_observed_at,
    t.recovered_observed_at,
    t.ended_at,
    t.ended_at is null as is_open,
    {{ fivetran_meta.datediff('t.started_at', 'coalesce(t.ended_at, t.built_at)', 'minute') }}
        as duration_minutes,
    t.first_health,
    t.worst_health,
    c.health as current_health,
    t.unhealthy_observations,
    ca.cause_codes,
    ca.cause_messages,
    coalesce(cc.task_count, 0) as task_count,
    coalesce(cc.warning_count, 0) as warning_count,
    coalesce(fs.failed_syncs, 0) as failed_syncs,
    coalesce(sf.dbt_sources_affected, 0) as dbt_sources_affected,
    t.built_at as judged_at
from timed as t
left join {{ ref('fivetran_meta__connection_status') }} as c on c.connection_id = t.connection_id
left join causes as ca on ca.connection_id = t.connection_id and ca.spell = t.spell
left join cause_counts as cc on cc.connection_id = t.connection_id and cc.spell = t.spell
left join failed_syncs as fs on fs.connection_id = t.connection_id and fs.spell = t.spell
left join sources_fed as sf on sf.connection_id = t.connection_id
