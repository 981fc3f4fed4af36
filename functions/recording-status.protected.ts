// RecordingStatusCallback target: checks each recording was encrypted for
// RECORDING_PUBLIC_KEY_SID and raises alarms (16107, 16104/16105) in the logs.
import { recordingStatusCore } from '../src/functions/recording-status.js';
import { protectedFunction } from '../src/functions/runtime.js';

export const handler = protectedFunction('recording-status', recordingStatusCore);
