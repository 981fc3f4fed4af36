export { EnvelopeError, type EnvelopeErrorCode } from './errors.js';
export { FIELD_NAME, MAX_FIELDS, MAX_VALUE_BYTES, columnKey, fieldMatchesColumn, identifierFor, isToken, parseToken, type ParsedToken } from './token.js';
export { SealInputError, sealResponse, systemRandomness, type SealRandomness } from './seal.js';
export { Opener, type CellResult, type OpenedCell, type ResponseCell } from './open.js';
export { legacyKey, looksLegacy, openLegacy } from './legacy.js';
