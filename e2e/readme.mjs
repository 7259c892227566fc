// The GraphQL operations written in README.md, for validating them against the published schema.
import { Kind, parse } from 'graphql';

// fences returns the fenced code blocks of a Markdown text: {lang, body, line}.
export function fences(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  let open = null;
  lines.forEach((raw, i) => {
    const m = raw.match(/^\s*(`{3,})\s*([\w-]*)/);
    if (!open && m) {
      open = { marker: m[1], lang: m[2].toLowerCase(), body: [], line: i + 1 };
    } else if (open && m && m[1] === open.marker && m[2] === '') {
      blocks.push({ lang: open.lang, body: open.body.join('\n'), line: open.line });
      open = null;
    } else if (open) {
      open.body.push(raw);
    }
  });
  return blocks;
}

const looksLikeOperation = (s) => /^\s*(\{|query\b|mutation\b|subscription\b|fragment\b)/.test(s) && !/^\s*\{\s*"/.test(s);

// operations returns every GraphQL document written in README.md: whole ```graphql blocks and,
// in shell blocks, the single-quoted first argument of `gql`, single-quoted strings assigned to a
// shell variable (Q='{ … }'), JSON bodies ('{"query":"…"}') and jq-built bodies ({query: "…"}).
export function operations(markdown) {
  const out = [];
  for (const b of fences(markdown)) {
    if (b.lang === 'graphql' || b.lang === 'gql') {
      out.push({ line: b.line, source: b.body });
      continue;
    }
    if (b.lang !== 'sh' && b.lang !== 'bash' && b.lang !== 'shell') continue;
    // A shell variable spliced into a single-quoted query ('…"'"$LIST"'"…') stands for a value:
    // keep its name in its place.
    const body = b.body.replace(/'"\$\{?(\w+)\}?"'/g, '$1');
    const at = (index) => b.line + 1 + body.slice(0, index).split('\n').length - 1;
    for (const m of body.matchAll(/\bgql\s+'([^']*)'/g)) out.push({ line: at(m.index), source: m[1] });
    for (const m of body.matchAll(/(?:^|\s)[A-Za-z_][A-Za-z0-9_]*='([^']*)'/g)) {
      if (looksLikeOperation(m[1])) out.push({ line: at(m.index), source: m[1] });
    }
    for (const m of body.matchAll(/'(\{"query":[^']*)'/g)) {
      out.push({ line: at(m.index), source: JSON.parse(m[1]).query });
    }
    for (const m of body.matchAll(/\{query: "((?:[^"\\]|\\.)*)"/g)) {
      out.push({ line: at(m.index), source: JSON.parse(`"${m[1]}"`) });
    }
  }
  return out;
}

// split parses a document and returns one document per operation (with the document's
// fragments), so that a block holding several anonymous operations is checked one by one.
export function split(source) {
  const doc = parse(source);
  const fragments = doc.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
  const ops = doc.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length <= 1) return [doc];
  return ops.map((op) => ({ kind: Kind.DOCUMENT, definitions: [op, ...fragments] }));
}
