// json-source-map ships no types; this is the part of its API the parameter validation uses.
declare module 'json-source-map' {
  interface Position {
    line: number;
    column: number;
    pos: number;
  }
  interface Pointer {
    key?: Position;
    keyEnd?: Position;
    value: Position;
    valueEnd: Position;
  }
  export function parse(text: string): { data: unknown; pointers: Record<string, Pointer> };
}
