/** The labelling parameters live with the other chain parameters in state/ (genesis sets them). */
export {
  DEFAULT_LABELLING_PARAMS,
  LABELLING_PARAMS_KEY,
  decodeLabellingParams,
  encodeLabellingParams,
  labellingParamsProblem,
  loadLabellingParams,
  saveLabellingParams,
  type LabellingParams,
} from '../../state/index.ts';
