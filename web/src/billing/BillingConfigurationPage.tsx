import { Anchor, Tabs } from '@mantine/core';
import { Link } from 'react-router';
import { PageHeader } from '../ui/PageHeader';
import { PeriodSettingsTab } from './PeriodSettingsTab';
import { ReprocessTab } from './ReprocessTab';
import { RulesTab } from './RulesTab';
import { SkusTab } from './SkusTab';

/** Reports > Service Billing Configuration: SKUs, billing rules, bill period settings, reprocess. */
export function BillingConfigurationPage() {
  return (
    <>
      <PageHeader title="Service Billing Configuration">
        <Anchor component={Link} to="/billing">
          Billing report
        </Anchor>
      </PageHeader>
      <Tabs defaultValue="skus" keepMounted={false}>
        <Tabs.List mb="sm">
          <Tabs.Tab value="skus">SKUs</Tabs.Tab>
          <Tabs.Tab value="rules">Billing rules</Tabs.Tab>
          <Tabs.Tab value="periods">Bill period settings</Tabs.Tab>
          <Tabs.Tab value="reprocess">Reprocess Billing Records</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="skus">
          <SkusTab />
        </Tabs.Panel>
        <Tabs.Panel value="rules">
          <RulesTab />
        </Tabs.Panel>
        <Tabs.Panel value="periods">
          <PeriodSettingsTab />
        </Tabs.Panel>
        <Tabs.Panel value="reprocess">
          <ReprocessTab />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
