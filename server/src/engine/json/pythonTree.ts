/**
 * A JSON document as Python's `json.load` returns it, with source positions: ints and floats
 * kept apart (`2` is an int, `2.0` and `2e0` are floats), `NaN` / `Infinity` as floats, and of
 * duplicate keys the last one (`get`). For small files (a dataset index); the text must be
 * readable by Python's json (check with pythonJsonError first).
 */
import { visit } from 'jsonc-parser';
import { TextSpan } from '../diagnostics';
import { pythonConstantAt } from './pythonJsonLoad';

export type PyNode = TextSpan &
  (
    | { type: 'dict'; entries: { key: string; keySpan: TextSpan; value: PyNode }[] }
    | { type: 'list'; items: PyNode[] }
    | { type: 'str'; value: string }
    | { type: 'int' | 'float'; value: number }
    | { type: 'bool'; value: boolean }
    | { type: 'none' }
  );

/** `d[key]` for a dict node: the last entry with that key, as Python keeps it. */
export function get(node: PyNode, key: string): PyNode | undefined {
  if (node.type !== 'dict') return undefined;
  for (let i = node.entries.length - 1; i >= 0; i--) if (node.entries[i].key === key) return node.entries[i].value;
  return undefined;
}

/** Python's type name for messages ("list", "str", ...). */
export function typeName(node: PyNode): string {
  return node.type === 'none' ? 'NoneType' : node.type;
}

export function parsePythonTree(text: string): PyNode | undefined {
  type Open = { node: PyNode & ({ type: 'dict' } | { type: 'list' }); key?: { key: string; keySpan: TextSpan } };
  const stack: Open[] = [];
  let root: PyNode | undefined;
  let pendingKey: { key: string; keySpan: TextSpan } | undefined;
  let constantEnd = -1;
  const add = (node: PyNode) => {
    const parent = stack[stack.length - 1];
    if (!parent) root = node;
    else if (parent.node.type === 'list') parent.node.items.push(node);
    else if (pendingKey) parent.node.entries.push({ ...pendingKey, value: node });
    pendingKey = undefined;
  };
  const open = (node: Open['node']) => {
    const key = pendingKey;
    add(node);
    stack.push({ node, key });
  };
  const close = (offset: number) => {
    const { node } = stack.pop()!;
    node.length = offset + 1 - node.offset;
  };
  visit(
    text,
    {
      onObjectBegin: (offset) => open({ type: 'dict', entries: [], offset, length: 0 }),
      onObjectEnd: (offset) => close(offset),
      onArrayBegin: (offset) => open({ type: 'list', items: [], offset, length: 0 }),
      onArrayEnd: (offset) => close(offset),
      onObjectProperty: (key, offset, length) => {
        pendingKey = { key, keySpan: { offset, length } };
      },
      onLiteralValue: (value, offset, length) => {
        const span = { offset, length };
        if (typeof value === 'string') add({ ...span, type: 'str', value });
        else if (typeof value === 'boolean') add({ ...span, type: 'bool', value });
        else if (value === null) add({ ...span, type: 'none' });
        else
          add({ ...span, type: /^-?(0|[1-9]\d*)$/.test(text.slice(offset, offset + length)) ? 'int' : 'float', value });
      },
      onError: (_code, offset) => {
        // Only NaN, Infinity and -Infinity reach here in text Python reads; each is a float.
        if (offset < constantEnd) return;
        const constant = pythonConstantAt(text, offset);
        if (!constant) return;
        constantEnd = offset + constant.length;
        add({
          offset,
          length: constant.length,
          type: 'float',
          value: constant === 'NaN' ? NaN : constant === 'Infinity' ? Infinity : -Infinity,
        });
      },
    },
    { disallowComments: true, allowTrailingComma: false },
  );
  return root;
}
