// The credit-default model's columns: names kept from the original service, raw UCI names as
// aliases, and the domain the service will accept. The card is generated from this list, so
// the model and its card cannot disagree about order or names.

export interface FeatureDef {
  name: string;
  /** Raw UCI column name, accepted wherever `name` is. */
  alias: string;
  type: 'number' | 'integer';
  /**
   * Inclusive bounds the service validates rows against. Generous on purpose: they exist to
   * catch unit mistakes and garbage, not to police plausible customers. In the UCI data
   * credit_limit spans 10,000–1,000,000, age 21–79, pay delays −2…8, bill amounts
   * −165,580…983,931 and payments 0…1,684,259.
   */
  min: number;
  max: number;
  description: string;
}

export const CREDIT_FEATURES: readonly FeatureDef[] = [
  {
    name: 'credit_limit',
    alias: 'LIMIT_BAL',
    type: 'number',
    min: 0,
    max: 100_000_000,
    description: 'Amount of given credit (NT dollars), individual and family',
  },
  { name: 'age', alias: 'AGE', type: 'integer', min: 18, max: 120, description: 'Age in years' },
  // −2: no consumption, −1: paid in full, 0: revolving credit, 1…9: months of delay.
  {
    name: 'pay_delay_sep',
    alias: 'PAY_0',
    type: 'integer',
    min: -2,
    max: 9,
    description: 'Repayment status in September 2005 (−2 no use, −1 paid duly, 0 revolving, n months late)',
  },
  { name: 'pay_delay_aug', alias: 'PAY_2', type: 'integer', min: -2, max: 9, description: 'Repayment status in August 2005 (same coding)' },
  {
    name: 'bill_amt_sep',
    alias: 'BILL_AMT1',
    type: 'number',
    min: -100_000_000,
    max: 100_000_000,
    description: 'Bill statement amount, September 2005 (NT dollars; negative means credit balance)',
  },
  {
    name: 'bill_amt_aug',
    alias: 'BILL_AMT2',
    type: 'number',
    min: -100_000_000,
    max: 100_000_000,
    description: 'Bill statement amount, August 2005 (NT dollars)',
  },
  {
    name: 'pay_amt_sep',
    alias: 'PAY_AMT1',
    type: 'number',
    min: 0,
    max: 100_000_000,
    description: 'Amount paid in September 2005 (NT dollars)',
  },
  {
    name: 'pay_amt_aug',
    alias: 'PAY_AMT2',
    type: 'number',
    min: 0,
    max: 100_000_000,
    description: 'Amount paid in August 2005 (NT dollars)',
  },
];

export const CREDIT_TARGET = { name: 'target', alias: 'default.payment.next.month' } as const;

/** The raw file's row key; the validation split is a list of these. */
export const ID_COLUMN = 'ID';
