// The few @tanstack/react-query v5 signatures the README's hook uses.
export type QueryKey = readonly unknown[];
export type Updater<I, O> = O | ((input: I) => O);
export interface QueryClient {
  invalidateQueries(filters?: { queryKey?: QueryKey }): Promise<void>;
  setQueryData<T>(queryKey: QueryKey, updater: Updater<T | undefined, T | undefined>): T | undefined;
}
export function useQueryClient(): QueryClient;
