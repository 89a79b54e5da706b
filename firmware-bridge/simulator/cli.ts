/** `npm run simulate -- --devices 8`: the simulator on its own, without the station. */
import { simulateCommand } from './simulateCommand.js';

simulateCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
