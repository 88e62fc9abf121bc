// The few React signatures the README's hook uses, as @types/react declares them (the test
// type-checks the example without installing React).
export type Dispatch<A> = (value: A) => void;
export type SetStateAction<S> = S | ((previous: S) => S);
export type EffectCallback = () => void | (() => void);
export interface MutableRefObject<T> {
  current: T;
}
export function useState<S>(initial: S | (() => S)): [S, Dispatch<SetStateAction<S>>];
export function useEffect(effect: EffectCallback, deps?: readonly unknown[]): void;
export function useRef<T>(initial: T): MutableRefObject<T>;
