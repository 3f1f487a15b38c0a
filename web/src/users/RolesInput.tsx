import { MultiSelect } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { usersApi } from '../api/console-api';

export function useRoles() {
  return useQuery({ queryKey: ['roles'], queryFn: usersApi.roles, staleTime: 60_000 });
}

/** Roles the caller may grant (the server answers only those), with what each allows. */
export function RolesInput(props: {
  value: string[];
  onChange(value: string[]): void;
  error?: React.ReactNode;
  label?: string;
  description?: string;
}) {
  const roles = useRoles();
  const data = (roles.data?.items ?? []).map((r) => ({ value: r.name, label: r.name }));
  for (const v of props.value) if (!data.some((d) => d.value === v)) data.push({ value: v, label: v });
  return (
    <MultiSelect
      label={props.label ?? 'Roles'}
      description={props.description}
      data={data}
      value={props.value}
      onChange={props.onChange}
      error={props.error}
      searchable
      clearable
      placeholder={props.value.length ? undefined : 'No roles'}
    />
  );
}
