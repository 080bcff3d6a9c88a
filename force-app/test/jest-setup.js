// Adds `expect(element).toBeAccessible()` (axe-core through @sa11y/jest) to the LWC tests.
const { setup } = require('@sa11y/jest');

setup();
