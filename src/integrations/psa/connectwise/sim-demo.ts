import type { ConnectWiseSimState } from './sim-state.js';

/** Seed 004's default AgreementType parameter. */
export const DEMO_AGREEMENT_TYPE = 'Cloud and Hosting Services';

export interface ConnectWiseDemo {
  companies: { contoso: number; fabrikam: number; northwind: number };
  agreements: { contosoCloud: number; contosoProjects: number; fabrikamCloud: number };
  catalog: { m365BusinessPremium: number; hostedExchange: number; backupPerGb: number; retiredFax: number };
  additions: { contosoM365: number; contosoExchange: number; fabrikamM365: number };
}

/**
 * Three companies: two with a "Cloud and Hosting Services" agreement holding additions,
 * one with none (shows CW14). Contoso also has an agreement of another type, which a
 * type-filtered lookup must skip. One catalog item is inactive.
 */
export function seedConnectWiseDemo(state: ConnectWiseSimState): ConnectWiseDemo {
  const contoso = state.addCompany({ identifier: 'CONTOSO', name: 'Contoso Ltd' }).id;
  const fabrikam = state.addCompany({ identifier: 'FABRIKAM', name: 'Fabrikam Inc' }).id;
  const northwind = state.addCompany({ identifier: 'NORTHWIND', name: 'Northwind Traders' }).id;

  const m365BusinessPremium = state.addCatalogItem({
    identifier: 'M365-BP',
    description: 'Microsoft 365 Business Premium',
    price: 22,
    cost: 15.4,
  }).id;
  const hostedExchange = state.addCatalogItem({ identifier: 'HEX-MBX', description: 'Hosted Exchange Mailbox', price: 6.5, cost: 4.55 }).id;
  const backupPerGb = state.addCatalogItem({ identifier: 'BKP-GB', description: 'Managed Backup per GB', price: 0.25, cost: 0.1 }).id;
  const retiredFax = state.addCatalogItem({ identifier: 'FAX-LINE', description: 'Hosted fax line', price: 3, inactiveFlag: true }).id;

  const contosoCloud = state.addAgreement({
    companyIdentifier: 'CONTOSO',
    typeName: DEMO_AGREEMENT_TYPE,
    name: 'Contoso Cloud Services',
  }).id;
  const contosoProjects = state.addAgreement({ companyIdentifier: 'CONTOSO', typeName: 'Block Time', name: 'Contoso Project Hours' }).id;
  const fabrikamCloud = state.addAgreement({
    companyIdentifier: 'FABRIKAM',
    typeName: DEMO_AGREEMENT_TYPE,
    name: 'Fabrikam Cloud Services',
  }).id;

  const addition = (agreementId: number, identifier: string, quantity: number): number =>
    state.addAddition(agreementId, { product: { identifier }, billCustomer: 'Billable', quantity }).id;
  return {
    companies: { contoso, fabrikam, northwind },
    agreements: { contosoCloud, contosoProjects, fabrikamCloud },
    catalog: { m365BusinessPremium, hostedExchange, backupPerGb, retiredFax },
    additions: {
      contosoM365: addition(contosoCloud, 'M365-BP', 10),
      contosoExchange: addition(contosoCloud, 'HEX-MBX', 25),
      fabrikamM365: addition(fabrikamCloud, 'M365-BP', 5),
    },
  };
}
