/**
 * Per-nationality data for the randomuser-compatible source: enough variety to look like the
 * real API (unicode names, postcodes that are numbers for some countries and strings for
 * others, national id formats), small enough to stay fast.
 */
export interface Nationality {
  readonly code: string;
  readonly country: string;
  readonly maleFirst: readonly string[];
  readonly femaleFirst: readonly string[];
  readonly last: readonly string[];
  readonly places: readonly (readonly [city: string, state: string])[];
  readonly streets: readonly string[];
  /** Pattern: 9 = digit, A = capital letter; a number when `numeric`. */
  readonly postcode: string;
  readonly numericPostcode: boolean;
  readonly phone: string;
  readonly idName: string;
  /** Pattern of the id value; null when the real API sends `value: null`. */
  readonly idValue: string | null;
}

const enMale = ['James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Joseph', 'Thomas', 'Charles', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Steven', 'Paul', 'Andrew', 'Joshua', 'Kevin', 'Brian'];
const enFemale = ['Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen', 'Lisa', 'Nancy', 'Betty', 'Sandra', 'Ashley', 'Emily', 'Donna', 'Michelle', 'Carol', 'Amanda'];
const enLast = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Wilson', 'Anderson', 'Taylor', 'Thomas', 'Moore', 'Jackson', 'Martin', 'Lee', 'Thompson', 'White', 'Harris', 'Clark'];
const enStreets = ['Main St', 'Oak Lawn Ave', 'Valwood Pkwy', 'Park Lane', 'Mill Road', 'Church Street', 'Victoria Road', 'Green Rd', 'Hillcrest Rd', 'Depaul Dr'];

export const NATIONALITIES: readonly Nationality[] = [
  { code: 'AU', country: 'Australia', maleFirst: enMale, femaleFirst: enFemale, last: enLast, places: [['Sydney', 'New South Wales'], ['Melbourne', 'Victoria'], ['Perth', 'Western Australia'], ['Hobart', 'Tasmania']], streets: enStreets, postcode: '9999', numericPostcode: true, phone: '09-9999-9999', idName: 'TFN', idValue: '999999999' },
  { code: 'BR', country: 'Brazil', maleFirst: ['João', 'Caetano', 'Otávio', 'Lauro', 'Araci'], femaleFirst: ['Luíza', 'Débora', 'Jaciara', 'Cândida', 'Maitê'], last: ['da Luz', 'Nogueira', 'Araújo', 'Conceição', 'Gonçalves'], places: [['São Paulo', 'São Paulo'], ['Curitiba', 'Paraná'], ['Belém', 'Pará']], streets: ['Rua Três', 'Rua São Jorge', 'Rua Castro Alves'], postcode: '99999', numericPostcode: true, phone: '(99) 9999-9999', idName: 'CPF', idValue: '999.999.999-99' },
  { code: 'CA', country: 'Canada', maleFirst: enMale, femaleFirst: enFemale, last: ['Tremblay', 'Gagnon', 'Roy', 'Côté', 'Bouchard', 'Gauthier', 'Morin'], places: [['Toronto', 'Ontario'], ['Montréal', 'Québec'], ['Vancouver', 'British Columbia']], streets: ['Dufferin St', 'Lakeshore Rd', 'Rue Principale'], postcode: 'A9A 9A9', numericPostcode: false, phone: '999-999-9999', idName: 'SIN', idValue: '999999999' },
  { code: 'CH', country: 'Switzerland', maleFirst: ['Lukas', 'Rémy', 'Fabio', 'Gérard'], femaleFirst: ['Léa', 'Anaïs', 'Jasmin', 'Noémie'], last: ['Müller', 'Meier', 'Schneider', 'Dubois', 'Rossi'], places: [['Zürich', 'Zürich'], ['Genève', 'Genève'], ['Lugano', 'Ticino']], streets: ['Bahnhofstrasse', 'Rue de la Gare', 'Via Nassa'], postcode: '9999', numericPostcode: true, phone: '099 999 99 99', idName: 'AVS', idValue: '756.9999.9999.99' },
  { code: 'DE', country: 'Germany', maleFirst: ['Jürgen', 'Lukas', 'Günther', 'Björn'], femaleFirst: ['Jördis', 'Käthe', 'Lea', 'Sünje'], last: ['Müller', 'Schröder', 'Weiß', 'Köhler', 'Groß'], places: [['Berlin', 'Berlin'], ['München', 'Bayern'], ['Köln', 'Nordrhein-Westfalen']], streets: ['Schulstraße', 'Gartenweg', 'Mühlenstraße'], postcode: '99999', numericPostcode: true, phone: '0999-9999999', idName: 'SVNR', idValue: '99 999999 A 999' },
  { code: 'DK', country: 'Denmark', maleFirst: ['Søren', 'Mikkel', 'Anders'], femaleFirst: ['Ida', 'Freja', 'Åse'], last: ['Jensen', 'Nielsen', 'Sørensen', 'Møller'], places: [['København', 'Hovedstaden'], ['Århus', 'Midtjylland']], streets: ['Nørregade', 'Ågade', 'Møllevej'], postcode: '9999', numericPostcode: true, phone: '99999999', idName: 'CPR', idValue: '999999-9999' },
  { code: 'ES', country: 'Spain', maleFirst: ['José', 'Jesús', 'Ángel', 'Raúl'], femaleFirst: ['María', 'Lucía', 'Inés', 'Sofía'], last: ['García', 'Martínez', 'Gómez', 'Muñoz', 'Sáez'], places: [['Madrid', 'Comunidad de Madrid'], ['Sevilla', 'Andalucía'], ['Cádiz', 'Andalucía']], streets: ['Calle de Alcalá', 'Avenida de Andalucía', 'Calle Mayor'], postcode: '99999', numericPostcode: true, phone: '999-999-999', idName: 'DNI', idValue: '99999999-A' },
  { code: 'FI', country: 'Finland', maleFirst: ['Väinö', 'Eetu', 'Mikko'], femaleFirst: ['Aino', 'Siiri', 'Jenni'], last: ['Mäkelä', 'Virtanen', 'Häkkinen', 'Järvinen'], places: [['Helsinki', 'Uusimaa'], ['Tampere', 'Pirkanmaa']], streets: ['Hämeenkatu', 'Pyynikintie', 'Aleksanterinkatu'], postcode: '99999', numericPostcode: true, phone: '09-999-999', idName: 'HETU', idValue: '999999-999A' },
  { code: 'FR', country: 'France', maleFirst: ['Benoît', 'Jérôme', 'Loïc', 'Théo'], femaleFirst: ['Élodie', 'Chloé', 'Anaïs', 'Maëlle'], last: ['Lefèvre', 'Moreau', 'Girard', 'Dupont', 'Rousseau'], places: [['Paris', 'Île-de-France'], ['Besançon', 'Doubs'], ['Nîmes', 'Gard']], streets: ['Rue de la Mairie', 'Place de l\'Église', 'Rue Pasteur'], postcode: '99999', numericPostcode: true, phone: '09-99-99-99-99', idName: 'INSEE', idValue: '9999999999999 99' },
  { code: 'GB', country: 'United Kingdom', maleFirst: enMale, femaleFirst: enFemale, last: enLast, places: [['London', 'Greater London'], ['Leeds', 'West Yorkshire'], ['Bristol', 'Avon']], streets: ['Church Road', 'High Street', 'Kings Road'], postcode: 'AA9 9AA', numericPostcode: false, phone: '099999 99999', idName: 'NINO', idValue: 'AA 99 99 99 A' },
  { code: 'IE', country: 'Ireland', maleFirst: ['Seán', 'Ciarán', 'Pádraig'], femaleFirst: ['Aoife', 'Siobhán', 'Róisín'], last: ['Murphy', "O'Brien", 'Kelly', 'Ó Súilleabháin'], places: [['Dublin', 'Dublin'], ['Cork', 'Cork']], streets: ['Grafton Street', 'Main Street'], postcode: 'A99 A9A9', numericPostcode: false, phone: '099-999-9999', idName: 'PPS', idValue: '9999999A' },
  { code: 'IN', country: 'India', maleFirst: ['Aarav', 'Vihaan', 'Rohan'], femaleFirst: ['Ananya', 'Diya', 'Saanvi'], last: ['Sharma', 'Patel', 'Reddy', 'Iyer'], places: [['Mumbai', 'Maharashtra'], ['Chennai', 'Tamil Nadu']], streets: ['MG Road', 'Station Road'], postcode: '999999', numericPostcode: true, phone: '9999999999', idName: 'UIDAI', idValue: '999999999999' },
  { code: 'IR', country: 'Iran', maleFirst: ['امیرحسین', 'محمدطاها', 'علی'], femaleFirst: ['نازنین زهرا', 'فاطمه', 'ریحانه'], last: ['احمدی', 'رضایی', 'محمدی'], places: [['تهران', 'تهران'], ['اصفهان', 'اصفهان']], streets: ['میدان انقلاب', 'آزادی'], postcode: '99999', numericPostcode: true, phone: '099-99999999', idName: '', idValue: null },
  { code: 'MX', country: 'Mexico', maleFirst: ['José Luis', 'Andrés', 'Íñigo'], femaleFirst: ['Lupita', 'Ximena', 'Mónica'], last: ['Hernández', 'López', 'Pérez', 'Ibáñez'], places: [['Ciudad de México', 'Ciudad de México'], ['Mérida', 'Yucatán']], streets: ['Avenida Juárez', 'Calle Hidalgo'], postcode: '99999', numericPostcode: true, phone: '(699) 999 9999', idName: 'NSS', idValue: '99 99 99 9999 9' },
  { code: 'NL', country: 'Netherlands', maleFirst: ['Daan', 'Sem', 'Joël'], femaleFirst: ['Emma', 'Fenna', 'Zoë'], last: ['de Jong', 'Jansen', 'van den Berg', 'Bakker'], places: [['Amsterdam', 'Noord-Holland'], ['Utrecht', 'Utrecht']], streets: ['Kerkstraat', 'Molenweg'], postcode: '9999 AA', numericPostcode: false, phone: '(099) 9999999', idName: 'BSN', idValue: '99999999' },
  { code: 'NO', country: 'Norway', maleFirst: ['Øystein', 'Håkon', 'Bjørn'], femaleFirst: ['Åsne', 'Ingrid', 'Sølvi'], last: ['Hansen', 'Johansen', 'Østby', 'Håland'], places: [['Oslo', 'Oslo'], ['Tromsø', 'Troms']], streets: ['Storgata', 'Kirkeveien'], postcode: '9999', numericPostcode: false, phone: '99999999', idName: 'FN', idValue: '99999999999' },
  { code: 'NZ', country: 'New Zealand', maleFirst: enMale, femaleFirst: enFemale, last: ['Wilson', 'Walker', 'Ngata', 'Tāne'], places: [['Auckland', 'Auckland'], ['Wellington', 'Wellington']], streets: ['Queen Street', 'Cuba Street'], postcode: '9999', numericPostcode: true, phone: '(099)-999-9999', idName: '', idValue: null },
  { code: 'RS', country: 'Serbia', maleFirst: ['Dragoljub', 'Milorad', 'Желимир'], femaleFirst: ['Јелена', 'Milica', 'Ljiljana'], last: ['Jovanović', 'Петровић', 'Đorđević'], places: [['Beograd', 'Centralna Srbija'], ['Novi Sad', 'Vojvodina']], streets: ['Kralja Petra', 'Кнеза Михаила'], postcode: '99999', numericPostcode: true, phone: '099-9999-999', idName: 'SID', idValue: '999999999' },
  { code: 'TR', country: 'Turkey', maleFirst: ['Çağan', 'Doğan', 'Şükrü'], femaleFirst: ['Gülşen', 'Şeyma', 'Özlem'], last: ['Akbulut', 'Öztürk', 'Çetin', 'Yıldız'], places: [['İstanbul', 'İstanbul'], ['Ankara', 'Ankara']], streets: ['Atatürk Sk', 'Bağdat Cd'], postcode: '99999', numericPostcode: true, phone: '(999)-999-9999', idName: '', idValue: null },
  { code: 'UA', country: 'Ukraine', maleFirst: ['Богдан', 'Ярослав', 'Тарас'], femaleFirst: ['Оксана', 'Ярина', 'Зоряна'], last: ['Шевченко', 'Бондаренко', 'Ткаченко'], places: [['Київ', 'Київська'], ['Львів', 'Львівська']], streets: ['Хрещатик', 'Шевченка'], postcode: '99999', numericPostcode: true, phone: '(099) 999-9999', idName: '', idValue: null },
  { code: 'US', country: 'United States', maleFirst: enMale, femaleFirst: enFemale, last: enLast, places: [['Billings', 'Michigan'], ['Austin', 'Texas'], ['Fresno', 'California'], ['Toledo', 'Ohio']], streets: enStreets, postcode: '99999', numericPostcode: true, phone: '(999) 999-9999', idName: 'SSN', idValue: '999-99-9999' },
];

export const NATIONALITY_BY_CODE: ReadonlyMap<string, Nationality> = new Map(NATIONALITIES.map((n) => [n.code, n]));

export const TIMEZONES: readonly (readonly [offset: string, description: string])[] = [
  ['-12:00', 'Eniwetok, Kwajalein'], ['-10:00', 'Hawaii'], ['-8:00', 'Pacific Time (US & Canada)'], ['-7:00', 'Mountain Time (US & Canada)'],
  ['-6:00', 'Central Time (US & Canada), Mexico City'], ['-5:00', 'Eastern Time (US & Canada), Bogota, Lima'], ['-3:00', 'Brazil, Buenos Aires, Georgetown'],
  ['0:00', 'Western Europe Time, London, Lisbon, Casablanca'], ['+1:00', 'Brussels, Copenhagen, Madrid, Paris'], ['+2:00', 'Kaliningrad, South Africa'],
  ['+3:00', 'Baghdad, Riyadh, Moscow, St. Petersburg'], ['+3:30', 'Tehran'], ['+5:30', 'Bombay, Calcutta, Madras, New Delhi'], ['+8:00', 'Beijing, Perth, Singapore, Hong Kong'],
  ['+9:30', 'Adelaide, Darwin'], ['+10:00', 'Eastern Australia, Guam, Vladivostok'], ['+12:00', 'Auckland, Wellington, Fiji, Kamchatka'],
];

export const USERNAME_WORDS: readonly string[] = ['yellow', 'blue', 'red', 'black', 'white', 'purple', 'orange', 'green', 'silver', 'golden', 'tiny', 'big', 'happy', 'sad', 'lazy', 'angry', 'crazy', 'heavy', 'brown', 'organic'];
export const USERNAME_ANIMALS: readonly string[] = ['peacock', 'koala', 'rabbit', 'tiger', 'wolf', 'bear', 'swan', 'elephant', 'lion', 'zebra', 'panda', 'fish', 'bird', 'frog', 'gorilla', 'leopard', 'butterfly', 'ladybug', 'goose', 'duck'];
export const PASSWORDS: readonly string[] = ['addison', 'hunter', 'dragon', 'monkey', 'shadow', 'master', 'killer', 'trustno1', 'letmein', 'football', 'baseball', 'superman', 'batman', 'sunshine', 'iloveyou', 'starwars', 'freedom', 'whatever', 'qazwsx', 'ninja'];
