import path from 'node:path';
import { readModelCard, type ModelCard } from './card.js';
import { InferenceEngine } from './inference.js';
import { sessionSpec } from './session.js';

export interface LoadedModel {
  dir: string;
  modelPath: string;
  card: ModelCard;
  engine: InferenceEngine;
}

export const CARD_FILE = 'card.json';

/** Loads `<dir>/card.json` and the ONNX graph it names, and starts the inference worker. */
export async function loadModel(dir: string, opts: { threads?: number } = {}): Promise<LoadedModel> {
  const card = readModelCard(path.join(dir, CARD_FILE));
  const modelPath = path.resolve(dir, card.model_file);
  const engine = await InferenceEngine.start(sessionSpec(card, modelPath, opts.threads ?? 1));
  return { dir, modelPath, card, engine };
}
