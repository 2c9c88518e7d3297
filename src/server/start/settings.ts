import path from 'node:path';
import type { Config } from '../../config.js';
import { loadRules, type RulesConfig } from '../../alerts/index.js';
import { parseDriftOverrides, readProfile, type DriftOverrides, type ReferenceProfile } from '../../drift/index.js';
import { DriftlineError } from '../../errors.js';
import { CARD_FILE, readModelCard, type ModelCard } from '../../model/index.js';

/** What start-up reads and checks before it opens any thread or socket. */
export interface CheckedSettings {
  rules: RulesConfig;
  overrides: DriftOverrides;
  card: ModelCard;
  profile: ReferenceProfile;
}

/**
 * Everything that can be wrong in the settings or the model directory, checked first, so a bad
 * start-up exits at once instead of hanging with half the service open.
 */
export function checkSettings(config: Config): CheckedSettings {
  const rules = loadRules(config);
  const overrides = parseDriftOverrides(config.DRIFT_OVERRIDES ?? '{}');
  const card = readModelCard(path.join(config.MODEL_DIR, CARD_FILE));
  const profile = readProfile(path.join(config.MODEL_DIR, 'reference.json'));
  const names = card.features.map((f) => f.name).join(',');
  if (profile.features.map((f) => f.name).join(',') !== names) {
    throw new DriftlineError(
      'DL_ERR_REFERENCE',
      `reference.json lists features ${profile.features.map((f) => f.name).join(', ')}, the model card ${names}`,
    );
  }
  return { rules, overrides, card, profile };
}
