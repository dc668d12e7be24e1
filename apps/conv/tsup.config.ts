import { appBuild } from '../../tsup.base';

export default appBuild();
