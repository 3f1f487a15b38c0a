import { Route, Routes } from 'react-router';
import { NotFoundPage } from '../ui/NotFoundPage';
import { BillingConfigurationPage } from './BillingConfigurationPage';
import { BillingReportPage } from './BillingReportPage';

/** Reports > Billing and Reports > Service Billing Configuration. */
export function BillingPage() {
  return (
    <Routes>
      <Route index element={<BillingReportPage />} />
      <Route path="configuration" element={<BillingConfigurationPage />} />
      <Route path="*" element={<NotFoundPage what="page" />} />
    </Routes>
  );
}
