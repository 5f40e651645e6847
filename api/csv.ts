/** A handler answers CSV by returning one of these instead of a JSON object. */
export class CsvBody {
  constructor(
    readonly filename: string,
    readonly text: string,
  ) {}
}
