{#- One row per Fivetran transformation with its latest run and its project (dbt Core
    transformations name one in transformation_config.project_id). -#}

with transformations as (
    select * from {{ source('fivetran_meta', 'transformations') }}
),

projects as (
    select * from {{ source('fivetran_meta', 'transformation_projects') }}
)

select
    t.id as transformation_id,
    t.{{ adapter.quote('type') }} as transformation_type,
    t.status,
    upper(t.status) in ('FAILED', 'BLOCKED', 'PARTIALLY_SUCCEEDED') as is_failing,
    coalesce(t.paused, false) as is_paused,
    t.last_started_at,
    t.last_ended_at,
    case
        when t.last_ended_at >= t.last_started_at
        then {{ fivetran_meta.seconds_between('t.last_started_at', 't.last_ended_at') }}
    end as last_run_seconds,
    t.schedule ->> 'schedule_type' as schedule_type,
    {{ fivetran_meta.string_array_length('t.connection_ids') }} as connection_count,
    t.transformation_config ->> 'project_id' as project_id,
    p.{{ adapter.quote('type') }} as project_type,
    p.group_id as project_group_id,
    t.created_at
from transformations as t
left join projects as p on p.id = t.transformation_config ->> 'project_id'
