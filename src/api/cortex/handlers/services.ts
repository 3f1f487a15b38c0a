import { DomainError } from '../../../core/errors.js';
import type { Executor } from '../../../core/db/database.js';
import {
  customerPlans,
  getService,
  propertyDefinitions,
  serviceMatches,
  userPlans,
  type Service,
  type UserPlan,
} from '../../../catalog/catalog.service.js';
import {
  customerServicesOf,
  deprovisionCustomerService,
  deprovisionUserService,
  provisionCustomerService,
  provisionUserService,
  userServicesOf,
  type CustomerServiceInput,
  type CustomerServiceView,
  type UserPlanOffer,
  type UserServiceView,
} from '../../../services/service-assignment.service.js';
import {
  deleteServiceInstance,
  serviceInstances,
  setServiceInstance,
  tieUserServiceInstances,
  userServiceInstances,
} from '../../../services/service-instances.js';
import { assertServiceAvailable, availableServices, resellableServices } from '../../../services/resale.js';
import type { Customer } from '../../../tenancy/customer.service.js';
import type { User } from '../../../tenancy/user.service.js';
import { el, limitText, type OutNode } from '../serialize.js';
import { boolOf, child, children, parseLimit, textOf, type XmlNode } from '../xml.js';
import { propertiesOf, propertiesRequestOf, propertiesToWire } from './properties.js';
import { namedRefOf, statusOf } from './refs.js';
import { exchangeServiceGet, exchangeServiceSet } from './exchange.js';
import type { ReadContext, WriteContext } from './types.js';
import { isApprovalPending } from '../../../approvals/approval-response.service.js';

const planTag = (s: Service): string => s.user_plan_tag;
/** Both spellings are read for every service: scripts written for HE use <userpackage>. */
const planNodes = (node: XmlNode): XmlNode[] => node.children.filter((c) => c.tag === 'userplan' || c.tag === 'userpackage');

function matchesFilter(node: XmlNode, s: { name: string; fullname: string; location: string; status: string }): boolean {
  const eq = (tag: string, v: string) => {
    const want = textOf(node, tag);
    return want === undefined || want === '' || want.toLowerCase() === v.toLowerCase();
  };
  const status = statusOf(node);
  return eq('name', s.name) && eq('fullname', s.fullname) && eq('location', s.location) && (status === undefined || status === s.status);
}

/**
 * FIND <service/> in a customer: every service available to it, provisioned or not (seed: "including
 * those that are not provisioned"), and any it holds that its reseller no longer offers.
 */
export async function findCustomerServices(db: Executor, customer: Customer, location: string, node: XmlNode): Promise<OutNode[]> {
  const [available, provisioned] = await Promise.all([availableServices(db, customer), customerServicesOf(db, customer)]);
  const held = provisioned.map((p) => p.service).filter((s) => !available.some((a) => a.id === s.id));
  return [...available, ...held]
    .sort((a, b) => a.code.localeCompare(b.code))
    .map((s) => ({
      name: s.code,
      fullname: s.fullname,
      location,
      status: provisioned.find((p) => p.service.id === s.id)?.status ?? 'NotProvisioned',
    }))
    .filter((s) => matchesFilter(node, s))
    .map((s) => el('service', [el('name', s.name), el('fullname', s.fullname), el('location', s.location), el('status', s.status)]));
}

/**
 * GET of one customer service: everything a SET can send back (limits, plans, packages, properties, instances).
 * `held` is every service the customer holds, read once for all the services one GET names.
 */
export async function getCustomerService(
  cx: ReadContext,
  customer: Customer,
  location: string,
  node: XmlNode,
  held: CustomerServiceView[],
): Promise<OutNode> {
  const ref = namedRefOf(node);
  const view = held.find((v) => serviceMatches(v.service, ref));
  const service = view?.service ?? (await getService(cx.db, ref));
  if (!view) await assertServiceAvailable(cx.db, customer, service);
  const { packages, userPlans: plans } = view?.catalog ?? {
    packages: await customerPlans(cx.db, service.id),
    userPlans: await userPlans(cx.db, service.id),
  };
  const out: OutNode[] = [
    el('name', service.code),
    el('fullname', service.fullname),
    el('location', location),
    ...(service.version !== null || view?.version ? [el('version', view?.version ?? service.version)] : []),
    el('userlimit', limitText(view?.userLimit ?? null)),
    el('isbilled', view?.isBilled ?? false),
    el('status', view?.status ?? 'NotProvisioned'),
    el('approvalpending', view?.approvalPending ?? false),
    el('enabled', view?.enabled ?? false),
  ];
  for (const plan of plans)
    out.push(
      await userPlanToWire(
        cx.db,
        service,
        plan,
        view,
        planNodes(node).find((n) => refersTo(n, plan)),
      ),
    );
  // seed 002 "Querying Services": before provisioning, the defaults show (first package, every user plan enabled).
  for (const p of packages)
    out.push(
      el('package', [
        el('name', p.name),
        el('fullname', p.fullname),
        el('enabled', view ? view.plan?.id === p.id : p.id === packages[0]!.id),
      ]),
    );
  const propsReq = propertiesRequestOf(node);
  if (propsReq) out.push(propertiesToWire(view?.properties ?? {}, await propertyDefinitions(cx.db, service.id, 'customer'), propsReq));
  const placement = Object.fromEntries(Object.entries(view?.resourceConfiguration ?? {}).map(([k, v]) => [k, String(v)]));
  if (Object.keys(placement).length || child(node, 'resourceconfiguration'))
    out.push(propertiesToWire(placement, [], { detail: false, all: false }, 'resourceconfiguration'));
  const instancesNode = child(node, 'instances');
  if (instancesNode && view) {
    const instances = selectedInstances(await serviceInstances(cx.db, view.id), instancesNode, service);
    out.push(
      el(
        'instances',
        instances.map((i) =>
          el('instance', [el('name', i.name), el('status', i.status), propertiesToWire(i.properties, [], { detail: false, all: false })]),
        ),
      ),
    );
  }
  if (service.code.toLowerCase() === 'reseller' && view && view.status !== 'NotProvisioned')
    out.push(await resellableToWire(cx.db, customer));
  out.push(...(await exchangeServiceGet(cx, customer, undefined, node)));
  return el('service', out);
}

/** <instances/> selects every instance; <instances><instance><name>Site01</name>… only those named (seed 002, CRM 2011). */
function selectedInstances<T extends { name: string }>(all: T[], node: XmlNode, service: Service): T[] {
  const names = children(node, 'instance')
    .map((i) => textOf(i, 'name') ?? '')
    .filter((n) => n !== '');
  if (names.length === 0) return all;
  return names.map((n) => all.find((i) => i.name.toLowerCase() === n.toLowerCase()) ?? missingInstance(n, service));
}

function missingInstance(name: string, service: Service): never {
  throw new DomainError('InvalidService', `Instance '${name}' of service '${service.code}' not found.`);
}

function refersTo(node: XmlNode, plan: { name: string; fullname: string }): boolean {
  const ref = namedRefOf(node);
  return (
    (ref.name === undefined || ref.name.toLowerCase() === plan.name.toLowerCase()) &&
    (ref.fullname === undefined || ref.fullname.toLowerCase() === plan.fullname.toLowerCase())
  );
}

async function userPlanToWire(
  db: Executor,
  service: Service,
  plan: UserPlan,
  view: CustomerServiceView | undefined,
  asked: XmlNode | undefined,
): Promise<OutNode> {
  const offer = view?.userPlans.find((o) => o.plan.id === plan.id);
  const out = [
    el('name', plan.name),
    el('fullname', plan.fullname),
    el('userlimit', limitText(offer?.userLimit ?? null)),
    el('used', (offer?.used ?? 0) > 0),
    el('enabled', offer ? offer.enabled : view === undefined),
  ];
  const propsReq = asked && propertiesRequestOf(asked);
  if (propsReq) out.push(propertiesToWire(plan.properties, await propertyDefinitions(db, service.id, 'user'), propsReq));
  return el(planTag(service), out);
}

/** Seed: "Find all Services a Reseller can Resell": what the reseller may offer its customers. */
async function resellableToWire(db: Executor, reseller: Customer): Promise<OutNode> {
  const services = await resellableServices(db, reseller);
  return el(
    'services',
    services.map((s) => el('service', [el('name', s.code), el('fullname', s.fullname)])),
  );
}

/** SET of a customer service: provision, change, or (status NotProvisioned) de-provision for the customer and every user. */
export async function setCustomerService(cx: WriteContext, customer: Customer, node: XmlNode): Promise<void> {
  const service = await getService(cx.tx, namedRefOf(node));
  const status = statusOf(node);
  const current = (await customerServicesOf(cx.tx, customer, service.id))[0];
  if (status === 'NotProvisioned') {
    if (current && current.status !== 'NotProvisioned') await deprovisionCustomerService(cx.tx, cx.caller, customer, { id: service.id });
    return;
  }
  const input: CustomerServiceInput = { service: { id: service.id } };
  const version = textOf(node, 'version');
  if (version) input.version = version;
  const plan = chosenPackage(node);
  if (plan) input.plan = plan;
  const enabled = boolOf(node, 'enabled');
  if (enabled !== undefined) input.enabled = enabled;
  const limit = textOf(node, 'userlimit');
  if (limit !== undefined) input.userLimit = parseLimit(limit, 'userlimit');
  const billed = boolOf(node, 'isbilled');
  if (billed !== undefined) input.isBilled = billed;
  const properties = propertiesOf(node, await propertyDefinitions(cx.tx, service.id, 'customer'));
  if (properties) input.properties = properties;
  const placement = propertiesOf(node, undefined, 'resourceconfiguration');
  if (placement) input.resourceConfiguration = placement;
  const offers = planOffers(node, current);
  if (offers.length) input.userPlans = offers;
  await provisionCustomerService(cx.tx, cx.caller, customer, input);
  await setInstances(cx, customer, service, node);
  await exchangeServiceSet(cx, customer, undefined, node);
}

/** The one package the SET selects: the enabled one (a GET lists every package, one enabled). */
function chosenPackage(node: XmlNode) {
  const nodes = children(node, 'package');
  const enabled = nodes.filter((p) => boolOf(p, 'enabled') !== false);
  if (enabled.length > 1) throw new DomainError('InvalidService', 'Only one customer plan (package) can be enabled for a service.');
  return enabled[0] && namedRefOf(enabled[0]);
}

/** User plans offered; a disabled plan the customer never had is skipped, so a GET → SET round trip changes nothing. */
function planOffers(node: XmlNode, current: CustomerServiceView | undefined): UserPlanOffer[] {
  const offers: UserPlanOffer[] = [];
  for (const p of planNodes(node)) {
    const ref = namedRefOf(p);
    const enabled = boolOf(p, 'enabled');
    const known = current?.userPlans.some((o) => refersTo(p, o.plan));
    if (enabled === false && !known) continue;
    const limit = textOf(p, 'userlimit');
    offers.push({
      plan: ref,
      ...(enabled !== undefined ? { enabled } : {}),
      ...(limit !== undefined ? { userLimit: parseLimit(limit, 'userlimit') } : {}),
    });
  }
  return offers;
}

async function setInstances(cx: WriteContext, customer: Customer, service: Service, node: XmlNode): Promise<void> {
  const list = child(node, 'instances');
  if (!list) return;
  for (const i of children(list, 'instance')) {
    const name = textOf(i, 'name');
    if (!name) throw new DomainError('InvalidService', 'An <instance> must have a <name>.');
    const properties = propertiesOf(i, await propertyDefinitions(cx.tx, service.id, 'instance'));
    await setServiceInstance(cx.tx, cx.caller, customer, { id: service.id }, { name, ...(properties ? { properties } : {}) });
  }
}

/** DELETE of <service> with <instances>: only instances can be deleted (seed 002). */
export async function deleteCustomerServiceInstances(cx: WriteContext, customer: Customer, node: XmlNode): Promise<void> {
  const service = await getService(cx.tx, namedRefOf(node));
  const list = child(node, 'instances');
  const names = list ? children(list, 'instance').map((i) => textOf(i, 'name') ?? '') : [];
  if (names.length === 0 || names.some((n) => n === '')) {
    throw new DomainError(
      'InvalidService',
      `Only service instances can be deleted; de-provision service '${service.code}' with <status>NotProvisioned</status>.`,
    );
  }
  for (const name of names) await deleteServiceInstance(cx.tx, cx.caller, customer, { id: service.id }, name);
}

/** FIND <service/> in a user: every user service the customer offers, held or not. */
export async function findUserServices(db: Executor, customer: Customer, user: User, node: XmlNode): Promise<OutNode[]> {
  const [offered, held] = await Promise.all([customerServicesOf(db, customer), userServicesOf(db, user)]);
  const found = offered
    .filter((cs) => cs.service.has_user_service && cs.status !== 'NotProvisioned')
    .map((cs) => ({ cs, mine: held.filter((h) => h.service.id === cs.service.id) }))
    .map(({ cs, mine }) => ({
      name: cs.service.code,
      fullname: cs.service.fullname,
      location: '',
      status: mine.find((m) => m.status !== 'NotProvisioned')?.status ?? mine[0]?.status ?? 'NotProvisioned',
      service: cs.service,
      mine,
    }))
    .filter((s) => matchesFilter(node, s))
    .map(async (s) =>
      el('service', [
        el('name', s.name),
        el('fullname', s.fullname),
        el('status', s.status),
        ...heldPlans(s.service, s.mine),
        ...(await heldInstances(db, s.service, s.mine, node)),
      ]),
    );
  return Promise.all(found);
}

/** With <instances> asked, the instances the user's service is tied to, shaped as the seed's request writes them. */
async function heldInstances(db: Executor, service: Service, mine: UserServiceView[], node: XmlNode): Promise<OutNode[]> {
  const asked = child(node, 'instances');
  if (!asked || !service.multi_instance) return [];
  const tied = await userServiceInstances(
    db,
    mine.filter((m) => m.status !== 'NotProvisioned').map((m) => m.id),
  );
  return [
    el(
      'instances',
      selectedInstances(tied, asked, service).map((i) => el('instance', [el('name', i.name)])),
    ),
  ];
}

function heldPlans(service: Service, mine: UserServiceView[]): OutNode[] {
  return mine
    .filter((m) => m.userPlan && m.status !== 'NotProvisioned')
    .map((m) => el(planTag(service), [el('name', m.userPlan!.name), el('fullname', m.userPlan!.fullname)]));
}

/** GET of one user service. */
export async function getUserService(db: Executor, user: User, node: XmlNode): Promise<OutNode> {
  const service = await getService(db, namedRefOf(node));
  const mine = await userServicesOf(db, user, service.id);
  const active = mine.filter((m) => m.status !== 'NotProvisioned');
  const out = [
    el('name', service.code),
    el('fullname', service.fullname),
    el('status', active[0]?.status ?? mine[0]?.status ?? 'NotProvisioned'),
    el('approvalpending', (await Promise.all(active.map((m) => isApprovalPending(db, 'user_service', m.id)))).some(Boolean)),
    el('enabled', active[0]?.enabled ?? false),
  ];
  for (const m of active) if (m.userPlan) out.push(await heldPlanToWire(db, service, m.userPlan, planNodes(node)));
  const propsReq = propertiesRequestOf(node);
  if (propsReq) out.push(propertiesToWire(active[0]?.properties ?? {}, await propertyDefinitions(db, service.id, 'user'), propsReq));
  out.push(...(await heldInstances(db, service, active, node)));
  return el('service', out);
}

/** A held user plan; with seed 002's <userplan><name>FULL</name><properties detail="true" filter="all"/></userplan>, its properties too. */
async function heldPlanToWire(db: Executor, service: Service, plan: UserPlan, asked: XmlNode[]): Promise<OutNode> {
  const request = asked.find((n) => refersTo(n, plan));
  const props = request && propertiesRequestOf(request);
  const extra = props ? [propertiesToWire(plan.properties, await propertyDefinitions(db, service.id, 'user'), props)] : [];
  return el(planTag(service), [el('name', plan.name), el('fullname', plan.fullname), ...extra]);
}

/** SET of a user service: provision with its user plan(s), change it, or de-provision it. */
export async function setUserService(cx: WriteContext, customer: Customer, user: User, node: XmlNode): Promise<void> {
  const service = await getService(cx.tx, namedRefOf(node));
  if (statusOf(node) === 'NotProvisioned') {
    const mine = await userServicesOf(cx.tx, user, service.id);
    if (mine.some((m) => m.status !== 'NotProvisioned')) await deprovisionUserService(cx.tx, cx.caller, customer, user, { id: service.id });
    return;
  }
  const plans = planNodes(node)
    .filter((p) => boolOf(p, 'enabled') !== false)
    .map(namedRefOf);
  const enabled = boolOf(node, 'enabled');
  const properties = propertiesOf(node, await propertyDefinitions(cx.tx, service.id, 'user'));
  await provisionUserService(cx.tx, cx.caller, customer, user, {
    service: { id: service.id },
    ...(plans.length ? { userPlans: plans } : {}),
    ...(enabled !== undefined ? { enabled } : {}),
    ...(properties ? { properties } : {}),
  });
  const instances = child(node, 'instances');
  if (instances) {
    const names = children(instances, 'instance').map((i) => textOf(i, 'name') ?? '');
    if (names.some((n) => n === '')) throw new DomainError('InvalidService', 'An <instance> must have a <name>.');
    if (names.length) await tieUserServiceInstances(cx.tx, cx.caller, customer, user, { id: service.id }, names);
  }
  await exchangeServiceSet(cx, customer, user, node);
}
