export function connect() {}
