{#- For the dbt project that installs this package: each of its sources (those of this
    package itself excluded) matched through table_lineage to the Fivetran connection
    that feeds it, with that connection's health and last success. Matching is on the
    destination schema.table, case-insensitive, and on the database too when both
    sides name one. A source no connection feeds keeps one row with is_fed_by_fivetran
    false. is_at_risk: the feeding connection's health is one of var
    fivetran_meta_at_risk_health. -#}

{%- set sources = [] -%}
{%- if execute -%}
  {%- for node in graph.sources.values() if node.package_name != 'fivetran_meta' -%}
    {%- do sources.append(node) -%}
  {%- endfor -%}
{%- endif %}

with dbt_sources as (
    {%- if sources %}
    {%- for node in sources | sort(attribute='unique_id') %}
    select
        '{{ node.unique_id }}' as source_unique_id,
        '{{ node.source_name }}' as source_name,
        '{{ node.name }}' as source_table,
        {{ "'" ~ node.database ~ "'" if node.database else "cast(null as " ~ dbt.type_string() ~ ")" }} as source_database,
        '{{ node.schema }}' as source_schema,
        '{{ node.identifier }}' as source_identifier
    {{ "union all" if not loop.last }}
    {%- endfor %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as source_unique_id,
        cast(null as {{ dbt.type_string() }}) as source_name,
        cast(null as {{ dbt.type_string() }}) as source_table,
        cast(null as {{ dbt.type_string() }}) as source_database,
        cast(null as {{ dbt.type_string() }}) as source_schema,
        cast(null as {{ dbt.type_string() }}) as source_identifier
    where 1 = 0
    {%- endif %}
),

{%- set table_lineage = source('fivetran_meta', 'table_lineage') %}

lineage as (
    select *
    from {{ fivetran_meta.deduped_source('table_lineage', ['connection_id', 'source_schema', 'source_table']) }} as l
    where {{ fivetran_meta.not_deleted(table_lineage, 'l') }}
),

fed as (
    select
        s.source_unique_id,
        l.connection_id,
        l.destination_fqn,
        l.source_schema || '.' || l.source_table as fivetran_source_table,
        coalesce(l.enabled, false) as is_table_enabled,
        case
            when l.schema_enabled = false then 'schema_disabled'
            when not coalesce(l.enabled, false) then 'table_disabled'
        end as disabled_reason
    from dbt_sources as s
    inner join lineage as l
        on lower(l.destination_schema) = lower(s.source_schema)
        and lower(l.destination_table) = lower(s.source_identifier)
        and (
            l.destination_database is null
            or s.source_database is null
            or lower(l.destination_database) = lower(s.source_database)
        )
)

select
    s.source_unique_id,
    s.source_name,
    s.source_table,
    coalesce(s.source_database || '.', '') || s.source_schema || '.' || s.source_identifier
        as source_relation,
    f.connection_id is not null as is_fed_by_fivetran,
    f.connection_id,
    f.fivetran_source_table,
    f.is_table_enabled,
    c.connection_name,
    c.service,
    c.health,
    c.health_rule,
    c.is_fresh,
    c.last_success_at,
    c.minutes_since_success,
    c.task_codes,
    c.is_sync_stuck,
    f.disabled_reason is not null or {{ fivetran_meta.is_at_risk('c.health') }} as is_at_risk,
    coalesce(
        f.disabled_reason,
        case when {{ fivetran_meta.is_at_risk('c.health') }} then c.health end
    ) as risk_reason
from dbt_sources as s
left join fed as f on f.source_unique_id = s.source_unique_id
left join {{ ref('fivetran_meta__connection_status') }} as c on c.connection_id = f.connection_id
