import type { LocalOrg } from './org';

/**
 * Japanese sample data for the demo and for tests that want a realistic org: users
 * (one inactive), Contacts and Leads with mixed-case emails and phones written every
 * way people write them, one converted Lead sharing its email with a Contact, and two
 * Contacts sharing one email (for the matcher's tie rule).
 */

export const DEMO_PASSWORD = 'demo-password';

export interface SeededUser {
  id: string;
  username: string;
  email: string;
  name: string;
  isActive: boolean;
  password: string;
}

export interface SeededPerson {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  mobilePhone: string | null;
  createdDate: string;
}

export interface SeededOrg {
  users: SeededUser[];
  /** The user who authorizes the demo link (active, API enabled). */
  authorizingUser: SeededUser;
  contacts: SeededPerson[];
  leads: Array<SeededPerson & { company: string; isConverted: boolean }>;
  /** Lower-cased email → ids, oldest first. */
  contactIdsByEmail: Record<string, string[]>;
  leadIdsByEmail: Record<string, string[]>;
  userIdsByEmail: Record<string, string>;
  convertedLead: { leadId: string; contactId: string; email: string };
  sharedEmail: { email: string; contactIds: string[] };
}

interface PersonSpec {
  last: string;
  first: string;
  email?: string;
  phone?: string;
  mobile?: string;
}

const USERS = [
  { last: '佐藤', first: '花子', email: 'hanako.sato@relation-demo.example.jp', active: true },
  { last: '鈴木', first: '一郎', email: 'ichiro.suzuki@relation-demo.example.jp', active: true },
  { last: '高橋', first: '美咲', email: 'misaki.takahashi@relation-demo.example.jp', active: true },
  { last: '田中', first: '健', email: 'ken.tanaka@relation-demo.example.jp', active: false },
];

const SHARED_EMAIL = 'info@yamato-shoji.example.jp';

const CONTACTS: PersonSpec[] = [
  { last: '山田', first: '太郎', email: 'Taro.Yamada@Example.co.jp', phone: '03-1234-5678' },
  { last: '佐々木', first: '次郎', email: 'jiro.sasaki@example.co.jp', phone: '(03) 2345 6789' },
  { last: '伊藤', first: 'さくら', email: 'SAKURA.ITO@example.ne.jp', mobile: '０９０－１２３４－５６７８' },
  { last: '渡辺', first: '健太', email: 'kenta.watanabe@example.jp', mobile: '+81 90 2345 6789' },
  { last: '中村', first: '由美', email: 'Yumi.Nakamura@example.co.jp', phone: '06-6123-4567' },
  { last: '小林', first: '大輔', email: 'daisuke.kobayashi@example.com', phone: '052 123 4567' },
  { last: '加藤', first: '真由美', email: 'Mayumi.Kato@Example.JP', mobile: '080-3456-7890' },
  { last: '吉田', first: '翔太', email: 'shota.yoshida@example.co.jp', phone: '+81-3-3456-7890' },
  { last: '山本', first: '愛', email: 'ai.yamamoto@example.ne.jp', mobile: '070 4567 8901' },
  { last: '松本', first: '翼', email: 'tsubasa.matsumoto@example.jp', phone: '０３（５６７８）９０１２' },
  { last: '井上', first: '彩', email: 'Aya.Inoue@example.co.jp', phone: '011-234-5678' },
  { last: '木村', first: '拓也', email: 'takuya.kimura@example.com', mobile: '09056789012' },
  { last: '林', first: '美穂', email: 'miho.hayashi@example.co.jp', phone: '092-345-6789' },
  { last: '清水', first: '蓮', email: 'REN.SHIMIZU@EXAMPLE.JP', mobile: '+81 80 6789 0123' },
  { last: '山口', first: '結衣', email: 'yui.yamaguchi@example.ne.jp', phone: '045-456-7890' },
  { last: '森', first: '悠斗', email: 'yuto.mori@example.co.jp', mobile: '(080) 7890 1234' },
  { last: '池田', first: '陽菜', phone: '075-567-8901' },
  { last: '橋本', first: '颯', email: 'hayate.hashimoto@example.jp' },
  { last: '阿部', first: '七海', email: SHARED_EMAIL, phone: '03-9876-5432' },
  { last: '石川', first: '大和', email: 'Info@Yamato-Shoji.example.jp', phone: '03-9876-5433' },
];

const LEADS: Array<PersonSpec & { company: string }> = [
  {
    last: '斎藤',
    first: '優',
    company: '株式会社さくら商会',
    email: 'yu.saito@sakura-shokai.example.jp',
    phone: '03-1111-2222',
  },
  {
    last: '前田',
    first: '葵',
    company: '前田工業株式会社',
    email: 'Aoi.Maeda@maeda-kogyo.example.jp',
    mobile: '090-2222-3333',
  },
  {
    last: '藤田',
    first: '湊',
    company: '藤田デザイン',
    email: 'minato@fujita-design.example.jp',
    phone: '(06) 3333 4444',
  },
  {
    last: '岡田',
    first: '樹',
    company: '岡田物産株式会社',
    email: 'itsuki.okada@okada-bussan.example.jp',
    mobile: '＋８１ ９０ ４４４４ ５５５５',
  },
  {
    last: '後藤',
    first: '陽太',
    company: '株式会社ゴトウ',
    email: 'youta.goto@goto.example.jp',
    phone: '052-555-6666',
  },
  {
    last: '長谷川',
    first: '凛',
    company: '長谷川法律事務所',
    email: 'RIN.HASEGAWA@HASEGAWA-LAW.EXAMPLE.JP',
    phone: '03-6666-7777',
  },
  {
    last: '村上',
    first: '芽依',
    company: '村上食品株式会社',
    email: 'mei.murakami@murakami-foods.example.jp',
    mobile: '080 7777 8888',
  },
  {
    last: '近藤',
    first: '蒼',
    company: '近藤建設',
    email: 'ao.kondo@kondo-kensetsu.example.jp',
    phone: '+81 3 8888 9999',
  },
  {
    last: '石井',
    first: '結菜',
    company: '石井クリニック',
    email: 'yuna.ishii@ishii-clinic.example.jp',
    mobile: '070-9999-0000',
  },
  { last: '坂本', first: '律', company: '坂本商店', phone: '０６－１２１２－３４３４' },
  {
    last: '遠藤',
    first: '花',
    company: '遠藤ファーム',
    email: 'hana.endo@endo-farm.example.jp',
    phone: '011-1212-3434',
  },
  {
    last: '青木',
    first: '大翔',
    company: '青木システムズ株式会社',
    email: 'Hiroto.Aoki@aoki-systems.example.jp',
    mobile: '09012123434',
  },
  {
    last: '藤井',
    first: '紬',
    company: '藤井テキスタイル',
    email: 'tsumugi.fujii@fujii-textile.example.jp',
    phone: '075-1212-5656',
  },
  {
    last: '西村',
    first: '悠真',
    company: '西村不動産',
    email: 'yuma.nishimura@nishimura-fudosan.example.jp',
    phone: '092 1212 7878',
  },
];

/** The converted lead: same person as the Contact 山田 太郎, same email in other case. */
const CONVERTED_LEAD = {
  last: '山田',
  first: '太郎',
  company: '山田商事株式会社',
  email: 'taro.yamada@example.co.jp',
  phone: '03-1234-5678',
};

const FIRST_CREATED = Date.parse('2025-04-01T00:00:00Z');
const DAY_MS = 86_400_000;

function addToIndex(index: Record<string, string[]>, email: string | null, id: string): void {
  if (email === null) return;
  const key = email.toLowerCase();
  (index[key] ??= []).push(id);
}

export function seedDemoOrg(org: LocalOrg): SeededOrg {
  const domain = `${org.slug}.example.com`;
  const users: SeededUser[] = USERS.map((spec) => {
    const username = `${spec.email.split('@')[0]}@${domain}`;
    const user = org.addUser({
      username,
      email: spec.email,
      lastName: spec.last,
      firstName: spec.first,
      password: DEMO_PASSWORD,
      isActive: spec.active,
    });
    return {
      id: user.id,
      username,
      email: spec.email,
      name: user.name,
      isActive: spec.active,
      password: DEMO_PASSWORD,
    };
  });

  const accountId = org.addAccount({ Name: '大和商事株式会社', Phone: '03-9876-5400' });
  let day = 0;
  const created = () => new Date(FIRST_CREATED + day++ * DAY_MS).toISOString();

  const contactIdsByEmail: Record<string, string[]> = {};
  const contacts: SeededPerson[] = CONTACTS.map((spec) => {
    const createdDate = created();
    const email = spec.email ?? null;
    const id = org.addContact({
      LastName: spec.last,
      FirstName: spec.first,
      Email: email,
      Phone: spec.phone ?? null,
      MobilePhone: spec.mobile ?? null,
      AccountId: email?.toLowerCase() === SHARED_EMAIL ? accountId : null,
      CreatedDate: createdDate,
    });
    addToIndex(contactIdsByEmail, email, id);
    return {
      id,
      name: `${spec.last} ${spec.first}`,
      email,
      phone: spec.phone ?? null,
      mobilePhone: spec.mobile ?? null,
      createdDate,
    };
  });

  const leadIdsByEmail: Record<string, string[]> = {};
  const leads = LEADS.map((spec) => {
    const createdDate = created();
    const email = spec.email ?? null;
    const id = org.addLead({
      LastName: spec.last,
      FirstName: spec.first,
      Company: spec.company,
      Email: email,
      Phone: spec.phone ?? null,
      MobilePhone: spec.mobile ?? null,
      CreatedDate: createdDate,
    });
    addToIndex(leadIdsByEmail, email, id);
    return {
      id,
      name: `${spec.last} ${spec.first}`,
      company: spec.company,
      email,
      phone: spec.phone ?? null,
      mobilePhone: spec.mobile ?? null,
      createdDate,
      isConverted: false,
    };
  });

  const yamada = contacts[0] as SeededPerson;
  const convertedCreated = created();
  const convertedId = org.addLead({
    LastName: CONVERTED_LEAD.last,
    FirstName: CONVERTED_LEAD.first,
    Company: CONVERTED_LEAD.company,
    Email: CONVERTED_LEAD.email,
    Phone: CONVERTED_LEAD.phone,
    CreatedDate: convertedCreated,
  });
  org.convertLead(convertedId, { contactId: yamada.id });
  addToIndex(leadIdsByEmail, CONVERTED_LEAD.email, convertedId);
  leads.push({
    id: convertedId,
    name: `${CONVERTED_LEAD.last} ${CONVERTED_LEAD.first}`,
    company: CONVERTED_LEAD.company,
    email: CONVERTED_LEAD.email,
    phone: CONVERTED_LEAD.phone,
    mobilePhone: null,
    createdDate: convertedCreated,
    isConverted: true,
  });

  const userIdsByEmail = Object.fromEntries(users.map((user) => [user.email.toLowerCase(), user.id]));
  return {
    users,
    authorizingUser: users[0] as SeededUser,
    contacts,
    leads,
    contactIdsByEmail,
    leadIdsByEmail,
    userIdsByEmail,
    convertedLead: { leadId: convertedId, contactId: yamada.id, email: CONVERTED_LEAD.email },
    sharedEmail: { email: SHARED_EMAIL, contactIds: contactIdsByEmail[SHARED_EMAIL] ?? [] },
  };
}

/**
 * The demo company's sandbox, for the wizard's サンドボックスを使用する「はい」: an org of the
 * same name, seeded with the same sample data (as a sandbox copied from production has it),
 * whose users sign in at the sandbox login host. The demo and the console's tests share it,
 * so that the path the tests take is the one the demo offers.
 */
export function createDemoSandbox(
  local: { createOrg(options: { name: string; sandbox?: boolean }): LocalOrg },
  name: string,
): { org: LocalOrg; seeded: SeededOrg } {
  const org = local.createOrg({ name, sandbox: true });
  return { org, seeded: seedDemoOrg(org) };
}
