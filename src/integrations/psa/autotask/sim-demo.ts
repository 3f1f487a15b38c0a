import type { AutotaskSimState } from './sim-state.js';

/** Ids of the demo records, so a walkthrough or test can refer to them. */
export interface AutotaskDemo {
  companies: { contoso: number; fabrikam: number; northwind: number };
  services: { m365BusinessPremium: number; hostedExchange: number; backupPerGb: number; sharePointSite: number };
  contracts: { contosoRecurring: number; contosoHourly: number; fabrikamRecurring: number };
  contractServices: { contosoM365: number; contosoExchange: number; fabrikamM365: number };
}

/**
 * Three companies: two with a Recurring Service contract holding units, and one with none
 * (shows AT06). Contracts run from 1 January last year to 31 December next year, so "now"
 * is always inside them.
 */
export function seedAutotaskDemo(state: AutotaskSimState, today: Date = new Date()): AutotaskDemo {
  const year = today.getUTCFullYear();
  const startDate = `${year - 1}-01-01T00:00:00`;
  const endDate = `${year + 1}-12-31T00:00:00`;

  const contoso = state.addCompany({ companyName: 'Contoso Ltd', companyNumber: 'CONTOSO' }).id;
  const fabrikam = state.addCompany({ companyName: 'Fabrikam Inc', companyNumber: 'FABRIKAM' }).id;
  const northwind = state.addCompany({ companyName: 'Northwind Traders', companyNumber: 'NORTHWIND' }).id;

  const service = (name: string, unitPrice: number, description: string): number =>
    state.addService({ name, unitPrice, unitCost: unitPrice * 0.7, description, invoiceDescription: description }).id;
  const m365BusinessPremium = service('Microsoft 365 Business Premium', 22, 'Microsoft 365 Business Premium (per user)');
  const hostedExchange = service('Hosted Exchange Mailbox', 6.5, 'Hosted Exchange mailbox (per mailbox)');
  const backupPerGb = service('Managed Backup per GB', 0.25, 'Managed backup storage (per GB)');
  const sharePointSite = service('SharePoint Site', 12, 'Hosted SharePoint site');

  const contract = (companyID: number, contractName: string, contractType: number): number =>
    state.addContract({ companyID, contractName, contractType, startDate, endDate, status: 1 }).id;
  const contosoRecurring = contract(contoso, 'Contoso Managed Services', 7);
  const contosoHourly = contract(contoso, 'Contoso Project Hours', 1);
  const fabrikamRecurring = contract(fabrikam, 'Fabrikam Cloud Services', 7);

  const line = (contractID: number, serviceID: number, units: number): number => {
    const id = state.addContractService({ contractID, serviceID }).id;
    state.applyAdjustment({ contractID, serviceID, contractServiceID: id, unitChange: units, effectiveDate: startDate });
    return id;
  };
  return {
    companies: { contoso, fabrikam, northwind },
    services: { m365BusinessPremium, hostedExchange, backupPerGb, sharePointSite },
    contracts: { contosoRecurring, contosoHourly, fabrikamRecurring },
    contractServices: {
      contosoM365: line(contosoRecurring, m365BusinessPremium, 10),
      contosoExchange: line(contosoRecurring, hostedExchange, 25),
      fabrikamM365: line(fabrikamRecurring, m365BusinessPremium, 5),
    },
  };
}
