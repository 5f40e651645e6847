// The treasury recognition gates (docs/treasury.md): what must hold before a confirmed
// payment's pending balance moves to available. The one list the config schema, the API's
// workflow input, the payment workflow and the treasury activities read.

export const RECOGNITION_GATES = ['finality', 'no_open_exception', 'reconciled'] as const;
export type RecognitionGate = (typeof RECOGNITION_GATES)[number];

/** A rail without recognition_gates in its config waits for every gate; finance may configure fewer. */
export const DEFAULT_RECOGNITION_GATES: readonly RecognitionGate[] = RECOGNITION_GATES;
