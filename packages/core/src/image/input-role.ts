/** Which input a message is about: its name in messages and its request field. */
export interface InputRole {
  label: string;
  field: string;
}

/** The main input file of a request. */
export const mainInput: InputRole = { label: 'The file', field: 'files' };
