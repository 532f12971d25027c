{#- One row per Fivetran transformation with its latest run and its project, and one row
    for each transformation project no transformation uses (transformation_id null): a
    project in ERROR (e.g. "Unable to clone the repository") shows even with no
    transformation. is_failing: the transformation's status is FAILED, BLOCKED or
    PARTIALLY_SUCCEEDED, or its project's status is ERROR. -#}

with transformations as (
    select *
    from {{ fivetran_meta.deduped_source('transformations', ['id']) }} as t
),

projects as (
    select *
    from {{ fivetran_meta.deduped_source('transformation_projects', ['id']) }} as p
),

with_projects as (
    select
        t.id as transformation_id,
        t.{{ fivetran_meta.quoted_column('type') }} as transformation_type,
        t.status,
        coalesce(t.paused, false) as is_paused,
        t.last_started_at,
        t.last_ended_at,
        case
            when t.last_ended_at >= t.last_started_at
            then {{ fivetran_meta.seconds_between('t.last_started_at', 't.last_ended_at') }}
        end as last_run_seconds,
        t.schedule_type,
        coalesce(t.connection_count, 0) as connection_count,
        coalesce(t.project_id, p.id) as project_id,
        p.{{ fivetran_meta.quoted_column('type') }} as project_type,
        p.status as project_status,
        coalesce(p.error_count, 0) as project_error_count,
        p.errors_text as project_errors,
        p.group_id as project_group_id,
        t.created_at,
        t.account_id
    from transformations as t
    left join projects as p on p.id = t.project_id
    union all
    select
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        false,
        cast(null as {{ dbt.type_timestamp() }}),
        cast(null as {{ dbt.type_timestamp() }}),
        cast(null as {{ dbt.type_bigint() }}),
        cast(null as {{ dbt.type_string() }}),
        0,
        p.id,
        p.{{ fivetran_meta.quoted_column('type') }},
        p.status,
        coalesce(p.error_count, 0),
        p.errors_text,
        p.group_id,
        p.created_at,
        p.account_id
    from projects as p
    left join (
        select distinct project_id from transformations where project_id is not null
    ) as used on used.project_id = p.id
    where used.project_id is null
)

select
    transformation_id,
    transformation_type,
    status,
    coalesce(upper(status) in ('FAILED', 'BLOCKED', 'PARTIALLY_SUCCEEDED'), false)
        or coalesce(upper(project_status) = 'ERROR', false) as is_failing,
    coalesce(upper(project_status) = 'ERROR', false) as is_project_failing,
    is_paused,
    last_started_at,
    last_ended_at,
    last_run_seconds,
    schedule_type,
    connection_count,
    project_id,
    project_type,
    project_status,
    project_error_count,
    project_errors,
    project_group_id,
    created_at,
    account_id
from with_projects
