import { PageHeader } from '../ui/PageHeader';
import { UserTable } from './UserTable';

/** Users across every customer the caller may see. New users are created from a customer's page. */
export function UsersPage() {
  return (
    <>
      <PageHeader title="Users" />
      <UserTable />
    </>
  );
}
