// The expression tree. Every node keeps the offset where it starts, for error columns.

export type Expr =
  | { kind: 'literal'; value: unknown; at: number }
  | { kind: 'name'; name: string; at: number }
  | { kind: 'list'; items: Expr[]; at: number }
  | { kind: 'dict'; entries: Array<[Expr, Expr]>; at: number }
  | { kind: 'attr'; object: Expr; name: string; at: number }
  | { kind: 'index'; object: Expr; index: Expr; at: number }
  | { kind: 'slice'; object: Expr; start?: Expr; stop?: Expr; at: number }
  | { kind: 'unary'; op: 'not' | '-' | '+'; operand: Expr; at: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; at: number }
  | { kind: 'compare'; first: Expr; rest: Array<{ op: CompareOp; right: Expr; at: number }>; at: number }
  | { kind: 'and' | 'or'; left: Expr; right: Expr; at: number }
  | { kind: 'cond'; test: Expr; then: Expr; otherwise?: Expr; at: number }
  | { kind: 'filter'; name: string; input: Expr; args: Expr[]; kwargs: Record<string, Expr>; at: number }
  | { kind: 'test'; name: string; input: Expr; args: Expr[]; kwargs: Record<string, Expr>; negated: boolean; at: number };

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '~';
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'not in';
