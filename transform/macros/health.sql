{#- The health values, in the order the tap's rules are tried (first match wins), with
    the rule each stands for (README "Connection health"). `deleted` is not a rule of the
    tap's verdict on a listed connection: it is the row the tap writes when a connection
    is gone from a complete listing (or the loader flagged its row deleted). -#}
{% macro health_rules() -%}
  {{ return([
    ('deleted', 'gone from Fivetran: absent from a complete, unfiltered listing, or flagged deleted by the loader'),
    ('paused', 'paused is true, or sync_state = paused'),
    ('incomplete', 'setup_state = incomplete: setup never finished'),
    ('broken', 'setup_state = broken: needs action, see the tasks'),
    ('blocked', 'its hybrid deployment agent, proxy agent or private link is down (blocked_by)'),
    ('rescheduled', 'sync_state = rescheduled: waiting for source quota'),
    ('first_sync', 'never completed a sync; its first (historical) sync is queued or running'),
    ('historical_sync', 'a historical (re)sync is queued or running'),
    ('syncing', 'sync_state = syncing'),
    ('failing', 'the last completed sync failed'),
    ('delayed', 'update_state = delayed'),
    ('stale', 'the last success is older than sync_frequency plus the slack'),
    ('healthy', 'none of the above'),
  ]) }}
{%- endmacro %}

{% macro health_values() -%}
  {{ return(fivetran_meta.health_rules() | map(attribute=0) | list) }}
{%- endmacro %}

{% macro health_rule(column) -%}
  case {{ column }}
  {%- for value, rule in fivetran_meta.health_rules() %}
    when '{{ value }}' then '{{ rule }}'
  {%- endfor %}
  end
{%- endmacro %}

{#- True for health values at risk (var fivetran_meta_at_risk_health). -#}
{% macro is_at_risk(column) -%}
  coalesce({{ column }} in {{ fivetran_meta.sql_list(var('fivetran_meta_at_risk_health')) }}, false)
{%- endmacro %}

{#- Health values that have hours (every one but deleted, a point in time). -#}
{% macro health_values_with_hours() -%}
  {{ return(fivetran_meta.health_values() | reject('equalto', 'deleted') | list) }}
{%- endmacro %}
