// Studio's Split Based On condition types, evaluated as Studio does: text
// comparisons ignore case and surrounding spaces; "matches any of" takes a
// comma-separated list; numeric comparisons need numbers on both sides.
// From Studio's docs (Split Based On... widget): a condition is "Subject,
// Predicate, [value]"; the subject is "the configuration parameter defined as
// Input" (the widget's Variable to Test), and for the value "Constants,
// variables, and expressions are supported", so the value is rendered as
// Liquid. A condition's `arguments` (written by the editor, usually a copy of
// the input) are not what Studio tests, so they are ignored here.

import { FlowError, type Condition } from './definition.js';

const norm = (s: string) => s.trim().toLowerCase();
const list = (value: string) => value.split(',').map(norm).filter((v) => v !== '');

function number(text: string): number | undefined {
  const t = text.trim();
  return t !== '' && Number.isFinite(Number(t)) ? Number(t) : undefined;
}

export function conditionHolds(type: string, input: string, value: string, where: string): boolean {
  const a = norm(input);
  switch (type) {
    case 'equal_to':
      return a === norm(value);
    case 'not_equal_to':
      return a !== norm(value);
    case 'matches_any_of':
      return list(value).includes(a);
    case 'does_not_match_any_of':
      return !list(value).includes(a);
    case 'contains':
      return a.includes(norm(value));
    case 'does_not_contain':
      return !a.includes(norm(value));
    case 'starts_with':
      return a.startsWith(norm(value));
    case 'does_not_start_with':
      return !a.startsWith(norm(value));
    case 'is_blank':
      return a === '';
    case 'is_not_blank':
      return a !== '';
    case 'regex': {
      let re: RegExp;
      try {
        re = new RegExp(value, 'i');
      } catch {
        throw new FlowError(`${where}: the regex condition "${value}" is not a valid regular expression`);
      }
      return re.test(input.trim());
    }
    case 'less_than':
    case 'greater_than': {
      const x = number(input);
      const y = number(value);
      if (x === undefined || y === undefined) return false;
      return type === 'less_than' ? x < y : x > y;
    }
    default:
      throw new FlowError(`${where}: condition type "${type}" is not supported by this runner (supported: equal_to, not_equal_to, matches_any_of, does_not_match_any_of, contains, does_not_contain, starts_with, does_not_start_with, is_blank, is_not_blank, regex, less_than, greater_than)`);
  }
}

/**
 * All conditions of one transition hold for the split's rendered input (Studio
 * ANDs them); `render` renders each condition's value as Liquid.
 */
export function allHold(conditions: readonly Condition[], render: (template: string) => string, input: string, where: string): boolean {
  return conditions.every((c) => conditionHolds(c.type, input, render(c.value), where));
}
