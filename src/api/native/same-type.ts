/**
 * Compile-time checks that a schema and the type it stands for agree. `Same<A, B>` is true only when A and B are
 * the same type field by field, `readonly` aside: a field added, dropped, retyped or made optional on either side
 * makes it false, and `Expect<...>` fails `tsc` when given false. Intersections and mapped types (`Omit`) are
 * flattened first, so that only the shape counts, not how it is written.
 */
export type Same<A, B> =
  (<T>() => T extends Deep<A> ? 1 : 2) extends <T>() => T extends Deep<B> ? 1 : 2 ? true : false;

export type Expect<T extends true> = T;

/** Objects flattened all the way down, `readonly` dropped (functions are left as they are). */
type Deep<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? Deep<E>[]
    : T extends object
      ? { -readonly [K in keyof T]: Deep<T[K]> }
      : T;
