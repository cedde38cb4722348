# Small templates that exercise the Jinja2 features Jinjava lacks or treats differently, rendered with Python
# Jinja2 configured as transformers does. ChatTemplateTest renders each with ChatTemplate and expects the same.
# Known differences left out on purpose (see docs/model-io.md): printing True/False/None, nested dict reprs,
# {% break %}/{% continue %}.
# Regenerate: python3 reference_cases.py > jinja2-cases.json
import json
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters['tojson'] = tojson
M = [{"role": "system", "content": "  sys  "}, {"role": "user", "content": "a, b\n</think>c"},
     {"role": "assistant", "content": "ok"}]
templates = [
    "A\n    {{- 'B' }}\n{{- 'C' }}",
    "A\n    {{- 'B' -}}\n  C",
    "A {%- if true %} B{% endif %}",
    "{{- 'x' }}\n{%- if true %}\n    {%- set y = 1 %}\n{%- endif %}\n{{- 'z' }}",
    "line1\n    {% if true %}\n    inner\n    {% endif %}\nline2\n",
    "{% for m in messages %}\n  {{ m.role }}\n{% endfor %}",
    "{#- comment -#}\n  x {# inline #} y\n{# c2 #}\nz",
    "{% set ns = namespace(a=true, b=messages|length - 1) %}{{ ns.b }}{% if ns.a %}T{% endif %}",
    "{% for m in messages[::-1] %}{{ m.role }},{% endfor %}",
    "{{ messages[1].content.split('</think>')[-1] }}|{{ messages[1].content.split(',')[0] }}|{{ messages[0].content.strip() }}|",
    "{% if messages[1]['content'].startswith('a') and messages[1].content.endswith('c') %}ok{% endif %}",
    "{{ {'b': 1, 'a': [1, 2.5, none, true, 'é']} | tojson }}",
    "{{ {'b': 1, 'a': {'c': []}} | tojson(indent=2) }}",
    "{{ messages | map(attribute='role') | join(',') }}",
    "{% for m in messages %}{{ loop.index }}/{{ loop.length }}{% if not loop.last %}-{% endif %}{% endfor %}",
    "{{ 'x' ~ 1 ~ 'y' }}{{ ('a' + 'b') | upper }}",
    "{% if messages[0].role == 'system' and messages|length > 2 %}yes{% else %}no{% endif %}",
    "{{ messages[0].content | trim }}|{{ '%d items' | format(3) }}",
    "{% raw %}{{- not rendered -}}{% endraw %}",
    "{{ \"a'{{-b\" }}",
    "{% if messages[5] is defined %}d{% else %}u{% endif %}{% if messages[0].tool_calls is defined %}d{% endif %}",
    "{% set d = {'x': 1, 'y': none} %}{% for k in d %}{{ k }}={% if d[k] is none %}N{% else %}{{ d[k] }}{% endif %};{% endfor %}{% for k, v in d.items() %}{{ k }}{% endfor %}",
    "{% set key = 'role' %}{% set d = {key: 'v'} %}{{ d.role }}",
    "{{ {'a': 1} }}|{{ ['x', 1] }}|{{ messages[0].role[-1] }}",
    "{%- for m in messages %}\n    {#- skip #}\n    {{- m.role[0] }}\n{%- endfor %}",
    "{{ messages[-1].content }}{{ messages[1:] | length }}",
]
print(json.dumps([{"template": t, "expected": env.from_string(t).render(messages=M)} for t in templates],
                 ensure_ascii=False, indent=1))
