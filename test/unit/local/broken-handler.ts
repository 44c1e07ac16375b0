/** A module whose INIT fails, as a bundle that throws at import does. */
throw new Error('cannot start: CONFIG_TABLE is not set');

// The export exists; the module just never finishes loading.
export const handler = async () => 'never';
