# Renders the test templates with Python Jinja2 configured as transformers does (trim_blocks, lstrip_blocks,
# loopcontrols, HF tojson, raise_exception, strftime_now at a fixed time) and prints the outputs that
# ChatTemplateTest compares against. Regenerate: python3 reference_render.py > expected-jinja2.json
import json, sys
from datetime import datetime
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.ext import loopcontrols
import os
D=os.path.dirname(os.path.abspath(__file__))+'/'
def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
def raise_exception(m): raise ValueError(m)
env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters['tojson']=tojson
env.globals['raise_exception']=raise_exception
env.globals['strftime_now']=lambda f: datetime(2026,11,24,7,30).strftime(f)
def r(name, messages, agp, **kw):
    t = env.from_string(open(D+name+'.jinja').read())
    return t.render(messages=messages, add_generation_prompt=agp, **kw)
CH=dict(bos_token='', eos_token='<|im_end|>', pad_token='<|endoftext|>', unk_token='')
out = {}
out['smol1']=r('smollm2',[{'role':'user','content':'Hi'}],True,**CH)
out['smol2']=r('smollm2',[{'role':'system','content':'Be brief.'},{'role':'user','content':'Hi'},{'role':'assistant','content':'Hello!'}],False,**CH)
out['tiny']=r('tinyllama',[{'role':'system','content':'You are a bot.'},{'role':'user','content':'Hi'}],True,bos_token='<s>',eos_token='</s>',unk_token='<unk>',pad_token='')
out['qwen25a']=r('qwen2.5',[{'role':'user','content':'Hi'}],True,**CH)
tools=json.loads('''[{"type":"function","function":{"name":"get_weather","description":"Get the weather, e.g. in Zürich",
  "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]''')
msgs=json.loads('''[{"role":"user","content":"Weather in Paris?"},
 {"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":{"city":"Paris","days":2.5}}}]},
 {"role":"tool","content":"sunny"}]''')
out['qwen25tools']=r('qwen2.5',msgs,True,tools=tools,**CH)
q3=json.loads('''[{"role":"user","content":"2+2?"},{"role":"assistant","content":"<think>\\nadd them\\n</think>\\n\\n4"},{"role":"user","content":"and 3+3?"}]''')
out['qwen3a']=r('qwen3',q3,True,**CH)
out['qwen3b']=r('qwen3',q3,True,enable_thinking=False,**CH)
out['qwen3span']=r('qwen3',[{'role':'user','content':'hi'},{'role':'assistant','content':'Hello!'}],False,**CH)
L=dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>', pad_token='', unk_token='')
out['llama1']=r('llama3.2',[{'role':'system','content':' You are a bot. '},{'role':'user','content':'  Hi\n'}],True,**L)
lt=json.loads('''[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{},"required":["x"]}}}]''')
out['llama2']=r('llama3.2',[{'role':'user','content':'Go'}],False,tools=lt,date_string='01 Jan 2025',**L)
try:
    r('llama3.2',[{'role':'system','content':'s'}],True,tools=lt,**L); out['llama_raise']='no raise'
except ValueError as e: out['llama_raise']=str(e)
print(json.dumps(out, ensure_ascii=False, indent=1))
